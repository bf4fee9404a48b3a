package io.portico.proxy.lb;

import io.portico.ir.BackendGroup;
import io.portico.ir.Endpoint;
import io.portico.ir.LoadBalancing;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the requests in flight to every endpoint, for least-request load balancing.
 *
 * <p>The counts are process-wide, shared by every proxy verticle, as Envoy's per-host
 * {@code rq_active} is shared by its workers: a slow endpoint's backlog builds up on every
 * event loop, and a per-loop count would see only its own slice of it (with N loops, 1/N of the
 * signal, and none at all on a loop that happened not to send there recently). The price is one
 * contended atomic increment and decrement per upstream request, only on rules that use
 * LeastRequest. A request counts from the moment its upstream request exists until its
 * response has been fully received (or it failed), per attempt: a retry on another endpoint
 * counts there.
 */
public final class InFlightRequests {

  private static final ConcurrentHashMap<Endpoint, Count> COUNTS = new ConcurrentHashMap<>();

  /** One endpoint's count; run when an attempt ends, it takes that attempt off. */
  private static final class Count extends AtomicInteger implements Runnable {
    @Override
    public void run() {
      decrementAndGet();
    }
  }

  private InFlightRequests() {
  }

  /** Returns how many requests are in flight to {@code endpoint}. */
  public static int of(Endpoint endpoint) {
    AtomicInteger count = COUNTS.get(endpoint);
    return count == null ? 0 : count.get();
  }

  /**
   * Counts an attempt just sent to {@code endpoint} when {@code group} balances by least
   * request, and returns what takes it off again, for the Forwarder to run when the attempt
   * ends (see the proxy's UpstreamAttempt); returns null for other groups.
   */
  public static Runnable track(BackendGroup group, Endpoint endpoint) {
    if (group == null || group.loadBalancing().type() != LoadBalancing.Type.LEAST_REQUEST) {
      return null;
    }
    Count count = COUNTS.computeIfAbsent(endpoint, e -> new Count());
    count.incrementAndGet();
    return count;
  }

  /** Forgets endpoints with nothing in flight that are no longer in use. */
  static void retain(java.util.Set<Endpoint> current) {
    COUNTS.entrySet().removeIf(e -> e.getValue().get() == 0 && !current.contains(e.getKey()));
  }
}
