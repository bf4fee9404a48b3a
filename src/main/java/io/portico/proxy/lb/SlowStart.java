package io.portico.proxy.lb;

import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Remembers when this verticle first saw each endpoint, for Envoy Gateway's
 * {@code slowStart.window}: an endpoint younger than the window gets a share of new requests
 * that grows linearly with its age, from 10% (Envoy's default {@code min_weight_percent}) to
 * 100% of a settled endpoint's share.
 *
 * <p>Endpoints of the first non-empty index are settled: they were serving before this process
 * started, and a restarted (or second) Portico must not throttle every pod. Kept per verticle
 * rather than per process: all verticles receive each EndpointsIndex within milliseconds, so
 * their first-seen times agree closely, and confinement needs no shared map. An endpoint that
 * leaves and comes back ramps up again. Confined to one event loop.
 */
final class SlowStart {

  /** Envoy's default min_weight_percent. */
  static final double MIN_FACTOR = 0.1;

  private final Map<Endpoint, Long> firstSeen = new HashMap<>();
  private boolean settled;
  /** The latest first-seen time of a current endpoint; MIN_VALUE when all are settled. */
  private long newest = Long.MIN_VALUE;

  /** Records the endpoints of {@code index}; forgets the ones that left. */
  void observe(EndpointsIndex index, long nowMillis) {
    Map<Endpoint, Long> previous = new HashMap<>(firstSeen);
    firstSeen.clear();
    newest = Long.MIN_VALUE;
    boolean any = false;
    for (List<Endpoint> list : index.endpoints().values()) {
      for (Endpoint endpoint : list) {
        any = true;
        Long seen = previous.get(endpoint);
        long first = seen != null ? seen : settled ? nowMillis : Long.MIN_VALUE;
        firstSeen.put(endpoint, first);
        newest = Math.max(newest, first);
      }
    }
    settled |= any;
  }

  /**
   * Returns whether some endpoint is younger than the window: when none is (the usual state),
   * every factor is 1 and callers skip the per-endpoint lookups.
   */
  boolean anyRamping(long windowMillis, long nowMillis) {
    return newest != Long.MIN_VALUE && nowMillis - newest < windowMillis;
  }

  /** Returns the endpoint's share factor in (0, 1]: 1 once it is a window old. */
  double factor(Endpoint endpoint, long windowMillis, long nowMillis) {
    Long seen = firstSeen.get(endpoint);
    if (seen == null || seen == Long.MIN_VALUE) {
      return 1;
    }
    long age = nowMillis - seen;
    if (age >= windowMillis) {
      return 1;
    }
    return Math.max(MIN_FACTOR, (double) Math.max(age, 0) / windowMillis);
  }
}
