package io.portico.conformance;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.portico.Portico;
import io.portico.controller.GatewayState;
import io.portico.resource.ObjectKey;

import java.time.Duration;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * What a conformance client can see of the "cluster": the objects Portico last read and the
 * status it computed for them, taken from one published {@link GatewayState} at a time so that
 * generations and observedGenerations are always compared within the same translation.
 */
final class ClusterView {

  /** How long Portico may take to pick up a file change before a mutation step fails. */
  static final Duration SYNC_LIMIT = Duration.ofSeconds(10);

  private final Portico portico;
  private GatewayState lastSeen;
  private long lastChangeNanos = System.nanoTime();

  ClusterView(Portico portico) {
    this.portico = portico;
  }

  /** Returns the current state, noting when it last changed. */
  synchronized GatewayState state() {
    GatewayState state = portico.state();
    if (state != lastSeen) {
      lastSeen = state;
      lastChangeNanos = System.nanoTime();
    }
    return state;
  }

  /** Returns whether Portico has published nothing new for {@code quiet} (as far as sampled). */
  synchronized boolean unchangedFor(Duration quiet) {
    state();
    return System.nanoTime() - lastChangeNanos >= quiet.toNanos();
  }

  static HasMetadata object(GatewayState state, ObjectKey key) {
    for (HasMetadata object : state.snapshot().all()) {
      if (ObjectKey.of(object).equals(key)) {
        return object;
      }
    }
    return null;
  }

  /** Returns the object's metadata.generation as Portico read it, or null when it is absent. */
  static Long generation(GatewayState state, ObjectKey key) {
    HasMetadata object = object(state, key);
    return object == null ? null : object.getMetadata().getGeneration();
  }

  static String resourceVersion(GatewayState state, ObjectKey key) {
    HasMetadata object = object(state, key);
    return object == null ? null : object.getMetadata().getResourceVersion();
  }

  static GatewayStatus gatewayStatus(GatewayState state, String namespace, String name) {
    return state.status().gateways().get(new ObjectKey("Gateway", namespace, name));
  }

  static HTTPRouteStatus httpRouteStatus(GatewayState state, String namespace, String name) {
    return state.status().httpRoutes().get(new ObjectKey("HTTPRoute", namespace, name));
  }

  /**
   * Returns the status.parents of a route of any kind Portico reports on (HTTPRoute, TLSRoute,
   * TCPRoute, UDPRoute, GRPCRoute), null when it has no status; throws for another kind.
   */
  static java.util.List<io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus>
      routeParents(GatewayState state, String kind, String namespace, String name) {
    ObjectKey key = new ObjectKey(kind, namespace, name);
    var report = state.status();
    return switch (kind) {
      case "HTTPRoute" -> report.httpRoutes().containsKey(key)
          ? report.httpRoutes().get(key).getParents() : null;
      case "TLSRoute" -> report.tlsRoutes().containsKey(key)
          ? report.tlsRoutes().get(key).getParents() : null;
      case "TCPRoute" -> report.tcpRoutes().containsKey(key)
          ? report.tcpRoutes().get(key).getParents() : null;
      case "UDPRoute" -> report.udpRoutes().containsKey(key)
          ? report.udpRoutes().get(key).getParents() : null;
      case "GRPCRoute" -> report.grpcRoutes().containsKey(key)
          ? report.grpcRoutes().get(key).getParents() : null;
      default -> throw new StepFailure("Portico reports no status for kind " + kind);
    };
  }

  static io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus backendTlsPolicyStatus(
      GatewayState state, String namespace, String name) {
    return state.status().backendTLSPolicies()
        .get(new ObjectKey("BackendTLSPolicy", namespace, name));
  }

  static io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus listenerSetStatus(
      GatewayState state, String namespace, String name) {
    return state.status().listenerSets().get(new ObjectKey("ListenerSet", namespace, name));
  }

  static GatewayClassStatus gatewayClassStatus(GatewayState state, String name) {
    return state.status().gatewayClasses().get(new ObjectKey("GatewayClass", "", name));
  }

  /**
   * Waits until the snapshot Portico translated satisfies {@code synced}: a file edit is only
   * "applied" once Portico has read it, as a kubectl write is once the API server has it.
   */
  void awaitSnapshot(String what, Predicate<GatewayState> synced) {
    long deadline = System.nanoTime() + SYNC_LIMIT.toNanos();
    while (!synced.test(state())) {
      if (System.nanoTime() > deadline) {
        throw new StepFailure("Portico did not read the configuration change within "
            + SYNC_LIMIT.toSeconds() + " s: " + what);
      }
      Poll.pause(Duration.ofMillis(20));
    }
  }

  /**
   * Waits until Portico has read exactly the given objects, comparing only the kinds the
   * runner tracks (ManifestStore.READ_KINDS), so a kind Portico starts to read later does not
   * make every case wait.
   */
  void awaitObjects(Set<ObjectKey> expected) {
    awaitSnapshot("objects on disk: " + expected.size(), state -> trackedKeys(state).equals(expected));
  }

  private static Set<ObjectKey> trackedKeys(GatewayState state) {
    return state.snapshot().all().stream().map(ObjectKey::of)
        .filter(key -> ManifestStore.READ_KINDS.contains(key.kind()))
        .collect(Collectors.toSet());
  }

  /** Returns the snapshot's keys that differ from {@code expected}, for a failure message. */
  String objectDifference(Set<ObjectKey> expected) {
    Set<ObjectKey> actual = trackedKeys(state());
    Set<ObjectKey> missing = new java.util.TreeSet<>(expected);
    missing.removeAll(actual);
    Set<ObjectKey> extra = new java.util.TreeSet<>(actual);
    extra.removeAll(expected);
    return "missing " + missing + ", unexpected " + extra;
  }
}
