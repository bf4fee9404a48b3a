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

import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;
import java.util.Set;

/**
 * Holds one consistent view of every Kubernetes object Portico reads, as fabric8 model objects.
 *
 * <p>Both providers (a directory of YAML, a cluster) produce the same snapshot for the same
 * objects. The lists are immutable; the objects in them must not be mutated once the snapshot
 * is built, because translators on other threads read them.
 *
 * @param gatewayClasses gateway.networking.k8s.io/v1 GatewayClass
 * @param gateways gateway.networking.k8s.io/v1 Gateway
 * @param httpRoutes gateway.networking.k8s.io/v1 HTTPRoute
 * @param referenceGrants ReferenceGrant, read as v1 whatever version it was written in
 * @param services core/v1 Service
 * @param endpointSlices discovery.k8s.io/v1 EndpointSlice
 * @param secrets core/v1 Secret
 * @param configMaps core/v1 ConfigMap (CA certificates for client certificate validation and
 *     for BackendTLSPolicy)
 * @param namespaces core/v1 Namespace (namespaces that objects use but that are not listed exist
 *     implicitly, with only the {@code kubernetes.io/metadata.name} label)
 * @param backends Envoy Gateway's gateway.envoyproxy.io/v1alpha1 Backend (plain host:port upstreams)
 * @param backendTLSPolicies gateway.networking.k8s.io/v1 BackendTLSPolicy (TLS from Portico to
 *     the Services they target)
 * @param backendTrafficPolicies Envoy Gateway's gateway.envoyproxy.io/v1alpha1
 *     BackendTrafficPolicy (load balancing and session affinity of the routes they target)
 * @param unimplementedPolicies Envoy Gateway's gateway.envoyproxy.io/v1alpha1 policies Portico
 *     does not implement yet ({@link #UNIMPLEMENTED_POLICY_KINDS}): read so that their status
 *     can say so, and so that a SecurityPolicy fails closed instead of being ignored
 * @param tlsRoutes TLSRoute, read as v1 whatever version (v1alpha2, v1alpha3, v1) it was
 *     written in
 * @param tcpRoutes TCPRoute, read as v1 (the v1alpha2 schema is the same)
 * @param udpRoutes UDPRoute, read as v1 (the v1alpha2 schema is the same)
 * @param listenerSets gateway.networking.k8s.io/v1 ListenerSet (GEP-1713): listeners added to
 *     a Gateway whose {@code spec.allowedListeners} admits them
 * @param grpcRoutes gateway.networking.k8s.io/v1 GRPCRoute
 */
public record ResourceSnapshot(
    List<GatewayClass> gatewayClasses,
    List<Gateway> gateways,
    List<HTTPRoute> httpRoutes,
    List<ReferenceGrant> referenceGrants,
    List<Service> services,
    List<EndpointSlice> endpointSlices,
    List<Secret> secrets,
    List<ConfigMap> configMaps,
    List<Namespace> namespaces,
    List<GenericKubernetesResource> backends,
    List<BackendTLSPolicy> backendTLSPolicies,
    List<GenericKubernetesResource> backendTrafficPolicies,
    List<GenericKubernetesResource> unimplementedPolicies,
    List<TLSRoute> tlsRoutes,
    List<TCPRoute> tcpRoutes,
    List<UDPRoute> udpRoutes,
    List<ListenerSet> listenerSets,
    List<GRPCRoute> grpcRoutes) {

  /** The apiVersion of Envoy Gateway's Backend kind. */
  public static final String ENVOY_GATEWAY_GROUP = "gateway.envoyproxy.io";

  /**
   * The gateway.envoyproxy.io policy kinds Portico reads only to report that it does not
   * implement them (and, for SecurityPolicy, to fail closed): see UnimplementedPolicyPhase.
   */
  public static final Set<String> UNIMPLEMENTED_POLICY_KINDS = Set.of("SecurityPolicy",
      "ClientTrafficPolicy", "EnvoyExtensionPolicy", "EnvoyPatchPolicy");

  public static final ResourceSnapshot EMPTY = of(List.of());

  public ResourceSnapshot {
    gatewayClasses = List.copyOf(gatewayClasses);
    gateways = List.copyOf(gateways);
    httpRoutes = List.copyOf(httpRoutes);
    referenceGrants = List.copyOf(referenceGrants);
    services = List.copyOf(services);
    endpointSlices = List.copyOf(endpointSlices);
    secrets = List.copyOf(secrets);
    configMaps = List.copyOf(configMaps);
    namespaces = List.copyOf(namespaces);
    backends = List.copyOf(backends);
    backendTLSPolicies = List.copyOf(backendTLSPolicies);
    backendTrafficPolicies = List.copyOf(backendTrafficPolicies);
    unimplementedPolicies = List.copyOf(unimplementedPolicies);
    tlsRoutes = List.copyOf(tlsRoutes);
    tcpRoutes = List.copyOf(tcpRoutes);
    udpRoutes = List.copyOf(udpRoutes);
    listenerSets = List.copyOf(listenerSets);
    grpcRoutes = List.copyOf(grpcRoutes);
  }

  /**
   * Returns a snapshot holding the given objects, sorted into their kinds. Objects of kinds
   * Portico does not read are left out.
   */
  public static ResourceSnapshot of(List<? extends HasMetadata> objects) {
    Objects.requireNonNull(objects, "objects");
    List<GatewayClass> gatewayClasses = new ArrayList<>();
    List<Gateway> gateways = new ArrayList<>();
    List<HTTPRoute> httpRoutes = new ArrayList<>();
    List<ReferenceGrant> referenceGrants = new ArrayList<>();
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> endpointSlices = new ArrayList<>();
    List<Secret> secrets = new ArrayList<>();
    List<ConfigMap> configMaps = new ArrayList<>();
    List<Namespace> namespaces = new ArrayList<>();
    List<GenericKubernetesResource> backends = new ArrayList<>();
    List<BackendTLSPolicy> backendTLSPolicies = new ArrayList<>();
    List<GenericKubernetesResource> backendTrafficPolicies = new ArrayList<>();
    List<GenericKubernetesResource> unimplementedPolicies = new ArrayList<>();
    List<TLSRoute> tlsRoutes = new ArrayList<>();
    List<TCPRoute> tcpRoutes = new ArrayList<>();
    List<UDPRoute> udpRoutes = new ArrayList<>();
    List<ListenerSet> listenerSets = new ArrayList<>();
    List<GRPCRoute> grpcRoutes = new ArrayList<>();
    for (HasMetadata object : objects) {
      if (object instanceof GatewayClass o) {
        gatewayClasses.add(o);
      } else if (object instanceof Gateway o) {
        gateways.add(o);
      } else if (object instanceof HTTPRoute o) {
        httpRoutes.add(o);
      } else if (object instanceof ReferenceGrant o) {
        referenceGrants.add(o);
      } else if (object instanceof Service o) {
        services.add(o);
      } else if (object instanceof EndpointSlice o) {
        endpointSlices.add(o);
      } else if (object instanceof Secret o) {
        secrets.add(o);
      } else if (object instanceof ConfigMap o) {
        configMaps.add(o);
      } else if (object instanceof Namespace o) {
        namespaces.add(o);
      } else if (object instanceof GenericKubernetesResource o && isEnvoyBackend(o)) {
        backends.add(o);
      } else if (object instanceof GenericKubernetesResource o
          && isEnvoyKind(o, "BackendTrafficPolicy")) {
        backendTrafficPolicies.add(o);
      } else if (object instanceof GenericKubernetesResource o && isUnimplementedPolicy(o)) {
        unimplementedPolicies.add(o);
      } else if (object instanceof BackendTLSPolicy o) {
        backendTLSPolicies.add(o);
      } else if (object instanceof TLSRoute o) {
        tlsRoutes.add(o);
      } else if (object instanceof TCPRoute o) {
        tcpRoutes.add(o);
      } else if (object instanceof UDPRoute o) {
        udpRoutes.add(o);
      } else if (object instanceof ListenerSet o) {
        listenerSets.add(o);
      } else if (object instanceof GRPCRoute o) {
        grpcRoutes.add(o);
      }
    }
    return new ResourceSnapshot(gatewayClasses, gateways, httpRoutes, referenceGrants, services,
        endpointSlices, secrets, configMaps, namespaces, backends, backendTLSPolicies,
        backendTrafficPolicies, unimplementedPolicies, tlsRoutes, tcpRoutes, udpRoutes,
        listenerSets, grpcRoutes);
  }

  /** Returns every object of the snapshot, in kind order. */
  public List<HasMetadata> all() {
    List<HasMetadata> all = new ArrayList<>();
    all.addAll(gatewayClasses);
    all.addAll(gateways);
    all.addAll(httpRoutes);
    all.addAll(referenceGrants);
    all.addAll(services);
    all.addAll(endpointSlices);
    all.addAll(secrets);
    all.addAll(configMaps);
    all.addAll(namespaces);
    all.addAll(backends);
    all.addAll(backendTLSPolicies);
    all.addAll(backendTrafficPolicies);
    all.addAll(unimplementedPolicies);
    all.addAll(tlsRoutes);
    all.addAll(tcpRoutes);
    all.addAll(udpRoutes);
    all.addAll(listenerSets);
    all.addAll(grpcRoutes);
    return all;
  }

  /** Returns whether the object is a gateway.envoyproxy.io policy Portico does not implement. */
  public static boolean isUnimplementedPolicy(HasMetadata object) {
    return UNIMPLEMENTED_POLICY_KINDS.contains(object.getKind())
        && isEnvoyKind(object, object.getKind());
  }

  /** Returns whether the object is Envoy Gateway's {@code Backend} kind. */
  public static boolean isEnvoyBackend(HasMetadata object) {
    return isEnvoyKind(object, "Backend");
  }

  /** Returns whether the object is Envoy Gateway's {@code kind}. */
  public static boolean isEnvoyKind(HasMetadata object, String kind) {
    String apiVersion = object.getApiVersion();
    return kind.equals(object.getKind())
        && apiVersion != null
        && apiVersion.startsWith(ENVOY_GATEWAY_GROUP + "/");
  }

  /**
   * Whether every kind of {@code a} and {@code b} but those named in {@code skipped} (record
   * component names, e.g. {@code "endpointSlices"}) holds lists that {@code alike} accepts.
   * Walks the record's own components, so a kind added to the snapshot later is compared
   * without anyone having to remember the callers (TLS/TCP/UDPRoutes were once missed by a
   * hand-written list, and a change to one of them alone was never translated).
   */
  public static boolean kindsAlike(ResourceSnapshot a, ResourceSnapshot b, Set<String> skipped,
      BiPredicate<List<?>, List<?>> alike) {
    for (RecordComponent component : ResourceSnapshot.class.getRecordComponents()) {
      if (skipped.contains(component.getName())) {
        continue;
      }
      try {
        Method accessor = component.getAccessor();
        if (!alike.test((List<?>) accessor.invoke(a), (List<?>) accessor.invoke(b))) {
          return false;
        }
      } catch (ReflectiveOperationException | ClassCastException e) {
        return false;
      }
    }
    return true;
  }
}
