package io.portico.resource;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicy;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Maps an apiVersion and kind to the Java class Portico reads it as, or to nothing. */
final class ResourceKinds {

  /**
   * How Portico reads one kind.
   *
   * @param type the fabric8 class the object becomes
   * @param clusterScoped whether the kind has no namespace
   * @param apiVersion the apiVersion to rewrite the object to, or null to keep the written one
   */
  record Kind(Class<? extends HasMetadata> type, boolean clusterScoped, String apiVersion) {}

  static final String GATEWAY_API_GROUP = "gateway.networking.k8s.io";
  static final String ENVOY_GATEWAY_GROUP = ResourceSnapshot.ENVOY_GATEWAY_GROUP;
  private static final String GATEWAY_API_V1 = GATEWAY_API_GROUP + "/v1";

  // Every served version of a Gateway API kind has the v1 schema (or a subset of it), so the
  // written version is dropped and one class per kind is enough for the translator.
  private static final Map<String, Kind> GATEWAY_API = Map.ofEntries(
      Map.entry("GatewayClass", new Kind(GatewayClass.class, true, GATEWAY_API_V1)),
      Map.entry("Gateway", new Kind(Gateway.class, false, GATEWAY_API_V1)),
      Map.entry("HTTPRoute", new Kind(HTTPRoute.class, false, GATEWAY_API_V1)),
      Map.entry("GRPCRoute", new Kind(GRPCRoute.class, false, GATEWAY_API_V1)),
      Map.entry("TLSRoute", new Kind(TLSRoute.class, false, GATEWAY_API_V1)),
      Map.entry("TCPRoute", new Kind(TCPRoute.class, false, GATEWAY_API_V1)),
      Map.entry("UDPRoute", new Kind(UDPRoute.class, false, GATEWAY_API_V1)),
      Map.entry("ReferenceGrant", new Kind(ReferenceGrant.class, false, GATEWAY_API_V1)),
      Map.entry("BackendTLSPolicy", new Kind(BackendTLSPolicy.class, false, GATEWAY_API_V1)),
      Map.entry("ListenerSet", new Kind(ListenerSet.class, false, GATEWAY_API_V1)));

  private static final Map<String, Kind> CORE_V1 = Map.of(
      "Service", new Kind(Service.class, false, null),
      "Secret", new Kind(Secret.class, false, null),
      "ConfigMap", new Kind(ConfigMap.class, false, null),
      "Namespace", new Kind(Namespace.class, true, null));

  private static final Map<String, Kind> DISCOVERY_V1 = Map.of(
      "EndpointSlice", new Kind(EndpointSlice.class, false, null));

  private static final Set<String> ENVOY_GATEWAY_KINDS = Set.of(
      "Backend", "BackendTrafficPolicy", "ClientTrafficPolicy", "SecurityPolicy", "EnvoyProxy",
      "EnvoyExtensionPolicy", "EnvoyPatchPolicy");

  private ResourceKinds() {}

  /** Returns how to read objects of this apiVersion and kind, or empty if Portico ignores them. */
  static Optional<Kind> resolve(String apiVersion, String kind) {
    int slash = apiVersion.indexOf('/');
    String group = slash < 0 ? "" : apiVersion.substring(0, slash);
    String version = apiVersion.substring(slash + 1);
    return Optional.ofNullable(switch (group) {
      case GATEWAY_API_GROUP -> GATEWAY_API.get(kind);
      case "" -> "v1".equals(version) ? CORE_V1.get(kind) : null;
      case "discovery.k8s.io" -> "v1".equals(version) ? DISCOVERY_V1.get(kind) : null;
      case ENVOY_GATEWAY_GROUP -> ENVOY_GATEWAY_KINDS.contains(kind)
          ? new Kind(GenericKubernetesResource.class, false, null)
          : null;
      default -> null;
    });
  }
}
