package io.portico.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds the informer's cached copy of an object whose status is written, by key: from the
 * informers themselves when given them (in Kubernetes mode a snapshot holds the copy an object
 * had when it last changed for translation, not its newest status), else from the snapshot,
 * without building a map of the whole snapshot: a round that writes the status of one route
 * among 10k looks up a handful of objects.
 *
 * <p>The Kubernetes provider's snapshots list each kind in key order, so a binary search finds
 * an object. When it misses (the object is gone, or the list is in another order: a snapshot
 * built some other way), the kind's list is indexed by key once, so an object is never reported
 * absent while it is there, and many misses cost one pass over the list, not one each.
 */
final class CachedCopies {

  private final ResourceSnapshot snapshot;
  private final Function<ObjectKey, HasMetadata> current;
  /** Per kind's list (by identity), its objects by key; built on the first miss. */
  private final Map<List<?>, Map<ObjectKey, HasMetadata>> indexes = new IdentityHashMap<>();

  /** Finds the snapshot's copies. */
  CachedCopies(ResourceSnapshot snapshot) {
    this(snapshot, null);
  }

  /**
   * @param current where the informers' current copies are found (the Kubernetes provider's,
   *     whose snapshots leave out status echoes), or null to take the snapshot's
   */
  CachedCopies(ResourceSnapshot snapshot, Function<ObjectKey, HasMetadata> current) {
    this.snapshot = snapshot;
    this.current = current;
  }

  /** Returns the current copy of the object with this key, or null when there is none. */
  HasMetadata get(ObjectKey key) {
    if (current != null) {
      return current.apply(key);
    }
    List<? extends HasMetadata> objects = switch (key.kind()) {
      case "GatewayClass" -> snapshot.gatewayClasses();
      case "Gateway" -> snapshot.gateways();
      case "ListenerSet" -> snapshot.listenerSets();
      case "HTTPRoute" -> snapshot.httpRoutes();
      case "GRPCRoute" -> snapshot.grpcRoutes();
      case "TLSRoute" -> snapshot.tlsRoutes();
      case "TCPRoute" -> snapshot.tcpRoutes();
      case "UDPRoute" -> snapshot.udpRoutes();
      case "BackendTLSPolicy" -> snapshot.backendTLSPolicies();
      case "BackendTrafficPolicy" -> snapshot.backendTrafficPolicies();
      default -> snapshot.unimplementedPolicies();
    };
    int low = 0;
    int high = objects.size() - 1;
    while (low <= high) {
      int middle = (low + high) >>> 1;
      HasMetadata object = objects.get(middle);
      int order = ObjectKey.of(object).compareTo(key);
      if (order == 0) {
        return object;
      }
      if (order < 0) {
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return indexes.computeIfAbsent(objects, list -> {
      Map<ObjectKey, HasMetadata> index = new HashMap<>();
      objects.forEach(object -> index.put(ObjectKey.of(object), object));
      return index;
    }).get(key);
  }
}
