package io.portico.status;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRouteStatus;
import io.portico.resource.ObjectKey;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Holds the status the translator computed for every object Portico owns, in the Gateway API's
 * own status types, ready to be written back to Kubernetes (by the leader) or shown by the admin
 * API and the log (standalone mode). Conditions carry {@code observedGeneration} but no
 * {@code lastTransitionTime}: the writer stamps it, keeping the old one when nothing changed.
 *
 * @param gatewayClasses status per GatewayClass whose controllerName is Portico's
 * @param gateways status per Gateway of those classes
 * @param httpRoutes status per HTTPRoute with at least one parentRef to those Gateways; only the
 *     parents entries for Portico's Gateways are present
 * @param backendTLSPolicies status per BackendTLSPolicy: one ancestors entry per Portico
 *     Gateway whose routes use a Service the policy targets
 * @param backendTrafficPolicies status per Envoy Gateway BackendTrafficPolicy: one ancestors
 *     entry per Portico Gateway of the routes it targets
 * @param unimplementedPolicies status per gateway.envoyproxy.io policy of a kind Portico does
 *     not implement yet (SecurityPolicy, ClientTrafficPolicy ...; the key names the kind):
 *     Accepted=False under each ancestor, saying so
 * @param tlsRoutes status per TLSRoute with a parentRef to Portico's Gateways (those parents
 *     entries only), as for HTTPRoutes
 * @param tcpRoutes status per TCPRoute, likewise
 * @param udpRoutes status per UDPRoute, likewise
 * @param listenerSets status per ListenerSet whose parent is one of Portico's Gateways
 * @param grpcRoutes status per GRPCRoute, likewise
 */
public record StatusReport(
    SortedMap<ObjectKey, GatewayClassStatus> gatewayClasses,
    SortedMap<ObjectKey, GatewayStatus> gateways,
    SortedMap<ObjectKey, HTTPRouteStatus> httpRoutes,
    SortedMap<ObjectKey, PolicyStatus> backendTLSPolicies,
    SortedMap<ObjectKey, PolicyStatus> backendTrafficPolicies,
    SortedMap<ObjectKey, PolicyStatus> unimplementedPolicies,
    SortedMap<ObjectKey, TLSRouteStatus> tlsRoutes,
    SortedMap<ObjectKey, TCPRouteStatus> tcpRoutes,
    SortedMap<ObjectKey, UDPRouteStatus> udpRoutes,
    SortedMap<ObjectKey, ListenerSetStatus> listenerSets,
    SortedMap<ObjectKey, GRPCRouteStatus> grpcRoutes) {

  public static final StatusReport EMPTY = new StatusReport(new TreeMap<>(), new TreeMap<>(),
      new TreeMap<>(), new TreeMap<>(), new TreeMap<>());

  /**
   * A report without status of unimplemented policies, TLSRoutes, TCPRoutes, UDPRoutes,
   * ListenerSets or GRPCRoutes.
   */
  public StatusReport(SortedMap<ObjectKey, GatewayClassStatus> gatewayClasses,
      SortedMap<ObjectKey, GatewayStatus> gateways,
      SortedMap<ObjectKey, HTTPRouteStatus> httpRoutes,
      SortedMap<ObjectKey, PolicyStatus> backendTLSPolicies,
      SortedMap<ObjectKey, PolicyStatus> backendTrafficPolicies) {
    this(gatewayClasses, gateways, httpRoutes, backendTLSPolicies, backendTrafficPolicies,
        new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>(),
        new TreeMap<>());
  }

  public StatusReport {
    gatewayClasses = Collections.unmodifiableSortedMap(new TreeMap<>(gatewayClasses));
    gateways = Collections.unmodifiableSortedMap(new TreeMap<>(gateways));
    httpRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(httpRoutes));
    backendTLSPolicies = Collections.unmodifiableSortedMap(new TreeMap<>(backendTLSPolicies));
    backendTrafficPolicies =
        Collections.unmodifiableSortedMap(new TreeMap<>(backendTrafficPolicies));
    unimplementedPolicies =
        Collections.unmodifiableSortedMap(new TreeMap<>(unimplementedPolicies));
    tlsRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(tlsRoutes));
    tcpRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(tcpRoutes));
    udpRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(udpRoutes));
    listenerSets = Collections.unmodifiableSortedMap(new TreeMap<>(listenerSets));
    grpcRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(grpcRoutes));
  }

  /** Returns the status of every object, keyed by object. */
  public Map<ObjectKey, Object> all() {
    Map<ObjectKey, Object> all = new TreeMap<>();
    all.putAll(gatewayClasses);
    all.putAll(gateways);
    all.putAll(httpRoutes);
    all.putAll(backendTLSPolicies);
    all.putAll(backendTrafficPolicies);
    all.putAll(unimplementedPolicies);
    all.putAll(tlsRoutes);
    all.putAll(tcpRoutes);
    all.putAll(udpRoutes);
    all.putAll(listenerSets);
    all.putAll(grpcRoutes);
    return all;
  }
}
