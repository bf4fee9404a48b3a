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
    if (!hasPort(service, refPort)) {
      return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
          where + ": " + target + " has no port " + refPort);
    }
    return new Resolution(WeightedBackend.of(name, weight,
        BackendKey.service(namespace, refName, refPort)), null, null);
  }

  private static boolean hasPort(Service service, int port) {
    if (service.getSpec() == null || service.getSpec().getPorts() == null) {
      return false;
    }
    for (ServicePort servicePort : service.getSpec().getPorts()) {
      if (servicePort.getPort() != null && servicePort.getPort() == port) {
        return true;
      }
    }
    return false;
  }

  private static Resolution failed(String name, int weight, String reason, String message) {
    return new Resolution(WeightedBackend.unavailable(name, weight, 500, message), reason, message);
  }
}
