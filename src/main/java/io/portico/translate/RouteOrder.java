package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Orders a translation's HTTPRoutes and GRPCRoutes oldest first ({@link SnapshotIndex#OLDEST_FIRST})
 * by updating the last translation's order: the routes that are gone are left out and the new
 * ones (new objects: added, changed, or status echoes) sorted in, instead of sorting all of them
 * again. The order is total for routes of one kind (namespace and name are unique), so the
 * result is the one a sort gives; with both kinds (an HTTPRoute and a GRPCRoute may share a
 * name and a timestamp) every translation sorts from scratch.
 *
 * <p>In Kubernetes mode the informers list routes in no useful order, and sorting 10k of them
 * at each change was a tenth of a translation (async-profiler, bench/scale.py --provider
 * kubernetes). Used by one translation at a time.
 */
final class RouteOrder {

  /** Above this share of new routes, sorting everything is as cheap. */
  private static final int FULL_SORT_DIVISOR = 8;

  private volatile List<HasMetadata> last = List.of();

  /**
   * Returns {@code routes} oldest first.
   *
   * @param bothKinds whether {@code routes} holds HTTPRoutes and GRPCRoutes: then sorted from
   *     scratch, as the tie between two kinds is broken by the order of the input
   */
  List<HasMetadata> sort(List<HasMetadata> routes, boolean bothKinds) {
    List<HasMetadata> previous = last;
    List<HasMetadata> sorted = bothKinds || previous.isEmpty() ? null : update(previous, routes);
    if (sorted == null) {
      sorted = new ArrayList<>(routes);
      SnapshotIndex.sortOldestFirst(sorted);
    }
    last = bothKinds ? List.of() : sorted;
    return sorted;
  }

  /** Returns the updated order, or null when too many routes are new for it to pay. */
  private static List<HasMetadata> update(List<HasMetadata> previous, List<HasMetadata> routes) {
    Set<HasMetadata> before = identitySet(previous);
    List<HasMetadata> added = new ArrayList<>();
    for (HasMetadata route : routes) {
      if (!before.contains(route)) {
        added.add(route);
      }
    }
    if (added.size() > routes.size() / FULL_SORT_DIVISOR) {
      return null;
    }
    List<HasMetadata> sorted = new ArrayList<>(routes.size());
    if (routes.size() - added.size() == previous.size()) {
      sorted.addAll(previous); // nothing gone: the common case, no set of the current routes
    } else {
      Set<HasMetadata> current = identitySet(routes);
      for (HasMetadata route : previous) {
        if (current.contains(route)) {
          sorted.add(route);
        }
      }
    }
    for (HasMetadata route : added) {
      int at = Collections.binarySearch(sorted, route, SnapshotIndex.OLDEST_FIRST);
      sorted.add(at < 0 ? -(at + 1) : at + 1, route);
    }
    return sorted;
  }

  private static Set<HasMetadata> identitySet(List<HasMetadata> objects) {
    Set<HasMetadata> set = Collections.newSetFromMap(new IdentityHashMap<>(objects.size() * 2));
    set.addAll(objects);
    return set;
  }
}
