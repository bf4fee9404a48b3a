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
    String where = "rule " + ruleIndex + " backendRefs[" + refIndex + "]";
    int weight = ref.getWeight() == null ? 1 : ref.getWeight();
    if (weight < 0) {
      return failed(name, 0, Conditions.REASON_UNSUPPORTED_VALUE,
          where + ": weight " + weight + " is negative");
    }
    String group = ref.getGroup() == null ? "" : ref.getGroup();
    String kind = ref.getKind() == null ? "Service" : ref.getKind();
    String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? routeNamespace : ref.getNamespace();
    String target = kind + " " + namespace + "/" + ref.getName();
    boolean isService = group.isEmpty() && kind.equals("Service");
    boolean isBackend = group.equals(ResourceSnapshot.ENVOY_GATEWAY_GROUP) && kind.equals("Backend");
    if (!isService && !isBackend) {
      return failed(name, weight, Conditions.REASON_INVALID_KIND, where + ": kind "
          + (group.isEmpty() ? "" : group + "/") + kind
          + " is not supported (supported: Service, gateway.envoyproxy.io/Backend)");
    }
    if (!ReferenceGrants.permits(index, ReferenceGrants.GATEWAY_GROUP, "HTTPRoute", routeNamespace,
        group, kind, namespace, ref.getName())) {
      return failed(name, weight, Conditions.REASON_REF_NOT_PERMITTED, where + ": " + target
          + " is in another namespace and no ReferenceGrant in " + namespace
          + " allows HTTPRoutes from " + routeNamespace + " to refer to it");
    }
    if (isBackend) {
      if (index.backend(namespace, ref.getName()) == null) {
        return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
            where + ": " + target + " not found");
      }
      return new Resolution(WeightedBackend.of(name, weight,
          BackendKey.backend(namespace, ref.getName())), null, null);
    }
    Service service = index.service(namespace, ref.getName());
    if (service == null) {
      return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
          where + ": " + target + " not found");
    }
    if (ref.getPort() == null) {
      return failed(name, weight, Conditions.REASON_UNSUPPORTED_VALUE,
          where + ": port is required when referring to a Service");
    }
    if (!hasPort(service, ref.getPort())) {
      return failed(name, weight, Conditions.REASON_BACKEND_NOT_FOUND,
          where + ": " + target + " has no port " + ref.getPort());
    }
    return new Resolution(WeightedBackend.of(name, weight,
        BackendKey.service(namespace, ref.getName(), ref.getPort())), null, null);
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
