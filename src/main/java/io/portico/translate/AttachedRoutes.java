package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ObjectKey;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Remembers how each HTTPRoute and GRPCRoute attached to Portico's listeners in one translation
 * (its status, and the route entries it added to each listener), so that a change to one route
 * among thousands attaches that route alone, and the status maps are updated rather than sorted
 * again.
 *
 * <p>A route's attachment is a function of the route, of its compiled rules and of the listeners
 * its parentRefs resolve to (Gateways, ListenerSets, and the namespaces their allowedRoutes
 * select), never of other routes, with one exception: the GRPCRoute conflict rule (an HTTPRoute
 * and a GRPCRoute may not share a hostname on a listener, see {@link HttpRoutePhase}). So an
 * attachment is reused under {@link CompiledRoutes}' condition (the same route instance, and
 * every object other than routes, endpoints and Secrets the same instance as last time), and
 * only while the snapshot has routes of one of the two kinds: with both, every route attaches
 * again, as from scratch.
 *
 * <p>At 10k routes, attaching every route again was half of each translation's CPU and most of
 * its allocation, whose survivors then cost as much again in garbage collection
 * (async-profiler, bench/scale.py). Safe for use by one translation at a time; the remembered
 * state is replaced whole at the end of each ({@link Session#next}).
 */
final class AttachedRoutes {

  /**
   * How one route attached in one translation.
   *
   * @param key the route's key
   * @param status its status: an HTTPRouteStatus or a GRPCRouteStatus; null when none of its
   *     parentRefs names a parent of Portico's (nothing to report)
   * @param placements the entries it added to listeners, in the order it added them
   */
  record Attachment(ObjectKey key, Object status, List<Placement> placements) {
  }

  /**
   * The entries a route added to one listener (the route counts once in its attachedRoutes).
   *
   * @param listener the listener's position among all listeners of the translation's Gateways,
   *     in their order: the same listener as long as Gateways and ListenerSets are the same
   *     objects, which reuse requires
   */
  record Placement(int listener, List<RouteEntry> entries) {
  }

  /** What one translation attached, and its status maps, sorted. */
  private record Generation(Map<HasMetadata, Attachment> attachments,
      SortedMap<ObjectKey, Object> httpStatus, SortedMap<ObjectKey, Object> grpcStatus) {
  }

  private static final Generation EMPTY =
      new Generation(Map.of(), new TreeMap<>(), new TreeMap<>());

  private volatile Generation last = EMPTY;
  private final AtomicLong attachments = new AtomicLong();

  /**
   * Starts one translation.
   *
   * @param reusable whether the objects attachment depends on, other than the routes
   *     themselves, are those of the last translation (see {@link CompiledRoutes.Session#reusing})
   * @param bothKinds whether the snapshot has HTTPRoutes and GRPCRoutes: the conflict rule may
   *     then make one route's attachment depend on others, and nothing is reused
   */
  Session begin(boolean reusable, boolean bothKinds) {
    // With both kinds, an attachment may have been refused for another route's sake: none is
    // remembered either, or it would be reused once that route is gone.
    return new Session(reusable && !bothKinds ? last : EMPTY, !bothKinds);
  }

  /** How many routes were attached (not reused) so far: what tests check the reuse by. */
  long attachments() {
    return attachments.get();
  }

  /** One translation's use of the remembered attachments. */
  final class Session {
    private final Generation previous;
    /** Whether the next translation may reuse this one's attachments. */
    private final boolean remember;
    /** Every route's attachment, reused or made, in the order the phase went through them. */
    private final List<HasMetadata> routes = new ArrayList<>();
    private final List<Attachment> inOrder = new ArrayList<>();
    /** The attachments made (not reused) by this translation, in order. */
    private final List<Attachment> fresh = new ArrayList<>();

    private Session(Generation previous, boolean remember) {
      this.previous = previous;
      this.remember = remember;
    }

    /** Returns {@code route}'s attachment of the last translation, or null when it must attach. */
    Attachment reusable(HasMetadata route) {
      Attachment attachment = previous.attachments().get(route);
      if (attachment != null) {
        routes.add(route);
        inOrder.add(attachment);
      }
      return attachment;
    }

    /** Records the attachment {@code route} just made. */
    void attached(HasMetadata route, Attachment attachment) {
      attachments.incrementAndGet();
      routes.add(route);
      inOrder.add(attachment);
      fresh.add(attachment);
    }

    /**
     * Returns the status of this translation's HTTPRoutes ({@code grpc} false) or GRPCRoutes,
     * sorted by key: the last translation's map, copied in linear time, with the fresh
     * attachments put in, rather than every route's status sorted again. The routes that are gone
     * are taken out by a pass over the map only when there are any.
     */
    @SuppressWarnings("unchecked")
    <T> SortedMap<ObjectKey, T> status(boolean grpc) {
      SortedMap<ObjectKey, Object> before = grpc ? previous.grpcStatus() : previous.httpStatus();
      TreeMap<ObjectKey, Object> result = new TreeMap<>(before);
      int count = 0;
      int stillThere = 0;
      for (Attachment attachment : inOrder) {
        if (attachment.status() != null && isGrpc(attachment) == grpc) {
          count++;
        }
      }
      int made = 0;
      for (Attachment attachment : fresh) {
        if (attachment.status() != null && isGrpc(attachment) == grpc) {
          made++;
          if (before.containsKey(attachment.key())) {
            stillThere++;
          }
        }
      }
      // A reused attachment's status is in the map already, under its key: when those and the
      // fresh ones already there are all the map has, no route is gone.
      int reused = count - made;
      if (reused + stillThere != before.size()) {
        Set<ObjectKey> present = new HashSet<>();
        for (Attachment attachment : inOrder) {
          if (attachment.status() != null && isGrpc(attachment) == grpc) {
            present.add(attachment.key());
          }
        }
        result.keySet().retainAll(present);
      }
      for (Attachment attachment : fresh) {
        if (attachment.status() != null && isGrpc(attachment) == grpc) {
          result.put(attachment.key(), attachment.status());
        }
      }
      if (result.size() != count) {
        // Two routes with one key (the providers never deliver such a snapshot): as from
        // scratch, the later one's status stands.
        result.clear();
        for (Attachment attachment : inOrder) {
          if (attachment.status() != null && isGrpc(attachment) == grpc) {
            result.put(attachment.key(), attachment.status());
          }
        }
      }
      return (SortedMap<ObjectKey, T>) (SortedMap<ObjectKey, ?>) result;
    }

    private static boolean isGrpc(Attachment attachment) {
      return attachment.status()
          instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
    }

    /**
     * Ends the translation: what it attached (routes it did not reach are forgotten, so memory
     * follows the configuration) is what the next one may reuse.
     *
     * @param httpStatus the map {@link #status} returned for HTTPRoutes
     * @param grpcStatus the map it returned for GRPCRoutes
     */
    void next(SortedMap<ObjectKey, ?> httpStatus, SortedMap<ObjectKey, ?> grpcStatus) {
      if (!remember) {
        last = EMPTY;
        return;
      }
      @SuppressWarnings("unchecked")
      SortedMap<ObjectKey, Object> http = (SortedMap<ObjectKey, Object>) httpStatus;
      @SuppressWarnings("unchecked")
      SortedMap<ObjectKey, Object> grpc = (SortedMap<ObjectKey, Object>) grpcStatus;
      Map<HasMetadata, Attachment> byRoute = new IdentityHashMap<>(routes.size() * 4 / 3 + 1);
      for (int i = 0; i < routes.size(); i++) {
        byRoute.put(routes.get(i), inOrder.get(i));
      }
      last = new Generation(byRoute, http, grpc);
    }
  }
}
