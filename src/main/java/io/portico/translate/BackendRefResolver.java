package io.portico.translate;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.portico.ir.BackendKey;
import io.portico.ir.WeightedBackend;
import io.portico.resource.ResourceSnapshot;
import io.portico.status.Conditions;

/**
 * Resolves one backendRef of an HTTPRoute into a {@link WeightedBackend}. A reference that
 * cannot be used becomes an unavailable backend answering 500 for its share of traffic, and the
 * failure is recorded for the route's ResolvedRefs condition.
 */
final class BackendRefResolver {

  /** A resolved reference, and why it failed when it did. */
  record Resolution(WeightedBackend backend, String failureReason, String failureMessage) {
  }

  private BackendRefResolver() {
  }

  static Resolution resolve(SnapshotIndex index, HTTPRoute route, int ruleIndex, int refIndex,
      HTTPBackendRef ref) {
    String routeNamespace = route.getMetadata().getNamespace();
    String name = "httproute/" + routeNamespace + "/" + route.getMetadata().getName()
        + "/rule/" + ruleIndex + "/backend/" + refIndex;
    return resolve(index, "HTTPRoute", routeNamespace, name, "rule " + ruleIndex + " backendRefs["
        + refIndex + "]", ref.getGroup(), ref.getKind(), ref.getNamespace(), ref.getName(),
        ref.getPort(), ref.getWeight());
  }

  /**
   * Resolves one backendRef of a TLSRoute, TCPRoute or UDPRoute rule.
   *
   * @param routeKind the route's kind, as ReferenceGrants name it in {@code spec.from}
   * @param route the route
   * @param ruleName the rule's deterministic name, e.g. {@code tcproute/default/db/rule/0}
   */
  static Resolution resolve(SnapshotIndex index, String routeKind,
      io.fabric8.kubernetes.api.model.HasMetadata route, String ruleName, int ruleIndex,
      int refIndex, io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef ref) {
    return resolve(index, routeKind, route.getMetadata().getNamespace(),
        ruleName + "/backend/" + refIndex, "rule " + ruleIndex + " backendRefs[" + refIndex + "]",
        ref.getGroup(), ref.getKind(), ref.getNamespace(), ref.getName(), ref.getPort(),
        ref.getWeight());
  }

  private static Resolution resolve(SnapshotIndex index, String routeKind, String routeNamespace,
      String name, String where, String refGroup, String refKind, String refNamespace,
      String refName, Integer refPort, Integer refWeight) {
    int weight = refWeight == null ? 1 : refWeight;
    if (weight < 0) {
      return failed(name, 0, Conditions.REASON_UNSUPPORTED_VALUE,
          where + ": weight " + weight + " is negative");
    }
    String group = refGroup == null ? "" : refGroup;
    String kind = refKind == null ? "Service" : refKind;
    String namespace = refNamespace == null || refNamespace.isEmpty()
        ? routeNamespace : refNamespace;
    String target = kind + " " + namespace + "/" + refName;
    boolean isService = group.isEmpty() && kind.equals("Service");
    boolean isBackend = group.equals(ResourceSnapshot.ENVOY_GATEWAY_GROUP) && kind.equals("Backend");
    if (!isService && !isBackend) {
      return failed(name, weight, Conditions.REASON_INVALID_KIND, where + ": kind "
          + (group.isEmpty() ? "" : group + "/") + kind
          + " is not supported (supported: Service, gateway.envoyproxy.io/Backend)");
    }
    if (!ReferenceGrants.permits(index, ReferenceGrants.GATEWAY_GROUP, routeKind, routeNamespace,
        group, kind, namespace, refName)) {
      return failed(name, weight, Conditions.REASON_REF_NOT_PERMITTED, where + ": " + target
          + " is in another namespace and no ReferenceGrant in " + namespace
          + " allows " + routeKind + "s from " + routeNamespace + " to refer to it");
    }
    if (isBackend) {
      if (index.backend(namespace, refName) == null) {
        return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
            where + ": " + target + " not found");
      }
      return new Resolution(WeightedBackend.of(name, weight,
          BackendKey.backend(namespace, refName)), null, null);
    }
    Service service = index.service(namespace, refName);
    if (service == null) {
      return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
          where + ": " + target + " not found");
    }
    if (refPort == null) {
      return failed(name, weight, Conditions.REASON_UNSUPPORTED_VALUE,
          where + ": port is required when referring to a Service");
    }
    if (port(service, refPort, null) == null) {
      return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
          where + ": " + target + " has no port " + refPort);
    }
    String unsupported = unsupportedProtocol(index, routeKind, service, refPort);
    if (unsupported != null) {
      return failed(name, weight, Conditions.REASON_UNSUPPORTED_PROTOCOL,
          where + ": " + target + " port " + refPort + " " + unsupported);
    }
    return new Resolution(WeightedBackend.of(name, weight,
        BackendKey.service(namespace, refName, refPort)), null, null);
  }

  /**
   * Returns why a route of {@code routeKind} cannot send traffic to the Service port, or null
   * when it can (GEP-1911, reason UnsupportedProtocol): a UDPRoute needs a UDP port and every
   * other kind a TCP one (a Service may declare the same number for both); a GRPCRoute speaks
   * HTTP/2, which a port declared as WebSocket ({@code kubernetes.io/ws}, {@code wss}) does not;
   * an HTTPRoute reaches a {@code kubernetes.io/wss} port (WebSocket over TLS) only through a
   * BackendTLSPolicy, as GEP-1911 allows.
   */
  private static String unsupportedProtocol(SnapshotIndex index, String routeKind,
      Service service, int port) {
    String wanted = "UDPRoute".equals(routeKind) ? "UDP" : "TCP";
    ServicePort servicePort = port(service, port, wanted);
    if (servicePort == null) {
      return "is not a " + wanted + " port (protocol " + protocol(port(service, port, null))
          + "), and a " + routeKind + " sends " + wanted;
    }
    String appProtocol = servicePort.getAppProtocol();
    if ("GRPCRoute".equals(routeKind)
        && ("kubernetes.io/ws".equals(appProtocol) || "kubernetes.io/wss".equals(appProtocol))) {
      return "has appProtocol " + appProtocol + ", and a GRPCRoute sends gRPC (HTTP/2)";
    }
    if ("HTTPRoute".equals(routeKind) && "kubernetes.io/wss".equals(appProtocol)
        && !tlsPolicyTargets(index, service, servicePort)) {
      return "has appProtocol kubernetes.io/wss (WebSocket over TLS), and no BackendTLSPolicy"
          + " targets it";
    }
    return null;
  }

  /** Whether a BackendTLSPolicy targets the Service, as a whole or by this port's name. */
  private static boolean tlsPolicyTargets(SnapshotIndex index, Service service, ServicePort port) {
    String namespace = service.getMetadata().getNamespace();
    for (var policy : index.snapshot().backendTLSPolicies()) {
      if (!namespace.equals(policy.getMetadata().getNamespace()) || policy.getSpec() == null
          || policy.getSpec().getTargetRefs() == null) {
        continue;
      }
      for (var ref : policy.getSpec().getTargetRefs()) {
        boolean group = ref.getGroup() == null || ref.getGroup().isEmpty();
        if (group && "Service".equals(ref.getKind())
            && service.getMetadata().getName().equals(ref.getName())
            && (ref.getSectionName() == null || ref.getSectionName().equals(port.getName()))) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Returns the Service's entry for {@code port} with {@code protocol} (null: any protocol), or
   * null. Kubernetes allows one entry per port number and protocol.
   */
  private static ServicePort port(Service service, int port, String protocol) {
    if (service.getSpec() == null || service.getSpec().getPorts() == null) {
      return null;
    }
    for (ServicePort servicePort : service.getSpec().getPorts()) {
      if (servicePort.getPort() != null && servicePort.getPort() == port
          && (protocol == null || protocol.equals(protocol(servicePort)))) {
        return servicePort;
      }
    }
    return null;
  }

  /** A Service port's protocol; TCP when left out. */
  private static String protocol(ServicePort port) {
    return port.getProtocol() == null ? "TCP" : port.getProtocol();
  }

  private static Resolution failed(String name, int weight, String reason, String message) {
    return new Resolution(WeightedBackend.unavailable(name, weight, 500, message), reason, message);
  }
}
