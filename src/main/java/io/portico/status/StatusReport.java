package io.portico.status;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
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
 */
public record StatusReport(
    SortedMap<ObjectKey, GatewayClassStatus> gatewayClasses,
    SortedMap<ObjectKey, GatewayStatus> gateways,
    SortedMap<ObjectKey, HTTPRouteStatus> httpRoutes,
    SortedMap<ObjectKey, PolicyStatus> backendTLSPolicies,
    SortedMap<ObjectKey, PolicyStatus> backendTrafficPolicies,
    SortedMap<ObjectKey, PolicyStatus> unimplementedPolicies) {

  public static final StatusReport EMPTY = new StatusReport(new TreeMap<>(), new TreeMap<>(),
      new TreeMap<>(), new TreeMap<>(), new TreeMap<>(), new TreeMap<>());

  public StatusReport {
    gatewayClasses = Collections.unmodifiableSortedMap(new TreeMap<>(gatewayClasses));
    gateways = Collections.unmodifiableSortedMap(new TreeMap<>(gateways));
    httpRoutes = Collections.unmodifiableSortedMap(new TreeMap<>(httpRoutes));
    backendTLSPolicies = Collections.unmodifiableSortedMap(new TreeMap<>(backendTLSPolicies));
    backendTrafficPolicies =
        Collections.unmodifiableSortedMap(new TreeMap<>(backendTrafficPolicies));
    unimplementedPolicies =
        Collections.unmodifiableSortedMap(new TreeMap<>(unimplementedPolicies));
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
    return all;
  }
}
