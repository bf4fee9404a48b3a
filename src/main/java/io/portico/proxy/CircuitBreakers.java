package io.portico.proxy;

import io.portico.ir.BackendResilience.CircuitBreaker;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts, per route rule, what a BackendTrafficPolicy's {@code circuitBreaker} limits: requests
 * in flight, requests waiting for a connection and retries in flight. One instance per Vert.x
 * instance, shared by every proxy verticle (Envoy Gateway makes one cluster per rule, and its
 * limits hold for the whole proxy), so the counters are atomics: no lock on the event loop.
 *
 * <p>Counters are keyed by the rule's name and outlive table changes: a request admitted under
 * the old table is still counted until it ends, and the new table's limits apply to the same
 * count. Rules that left the table are forgotten once nothing of theirs is in flight (see
 * {@link #retain}).
 *
 * <p>{@code maxConnections} counts the rule's upstream connections over all its endpoints and
 * event loops, as Envoy counts a cluster's; {@link RuleConnections} decides per event loop
 * whether a request may open one. A TLS/TCP route's rule counts its connections here too (the
 * stream proxy refuses one past the limit).
 */
public final class CircuitBreakers implements Shareable {

  private static final String SHARED_NAME = "portico.circuit-breakers";
  private static final String KEY = "breakers";

  private final ConcurrentMap<String, Counters> rules = new ConcurrentHashMap<>();

  /** Returns the instance of {@code vertx}, creating it on first use. */
  public static CircuitBreakers of(Vertx vertx) {
    LocalMap<String, CircuitBreakers> shared = vertx.sharedData().getLocalMap(SHARED_NAME);
    return shared.computeIfAbsent(KEY, key -> new CircuitBreakers());
  }

  /**
   * Forgets the counters of rules not in {@code current} that have nothing in flight (no
   * request, wait, retry or connection), so churn of routes does not grow the map; called on
   * every table change. A rule still counting keeps its counters until a later change finds
   * them idle. A request of an old table that asks for a pruned rule's counters gets fresh ones.
   */
  void retain(Set<String> current) {
    rules.entrySet().removeIf(entry -> !current.contains(entry.getKey())
        && entry.getValue().idle());
  }

  /** How many rules have counters (for tests). */
  int size() {
    return rules.size();
  }

  /** Returns the counters of the rule named {@code rule}. */
  public Counters counters(String rule) {
    Counters counters = rules.get(rule);
    return counters != null ? counters : rules.computeIfAbsent(rule, name -> new Counters());
  }

  /** The in-flight counts of one rule. */
  public static final class Counters {
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    /** Connections open or being opened to the rule's endpoints, over every event loop. */
    private final AtomicInteger connections = new AtomicInteger();

    /** Admits a request unless {@code maxParallelRequests} are in flight. */
    boolean tryRequest(CircuitBreaker limits) {
      return tryAcquire(requests, limits.maxParallelRequests());
    }

    void releaseRequest() {
      requests.decrementAndGet();
    }

    /** Admits a wait for a connection unless {@code maxPendingRequests} are waiting. */
    boolean tryPending(CircuitBreaker limits) {
      return tryAcquire(pending, limits.maxPendingRequests());
    }

    void releasePending() {
      pending.decrementAndGet();
    }

    /** Admits a retry unless {@code maxParallelRetries} are in flight. */
    boolean tryRetry(CircuitBreaker limits) {
      return tryAcquire(retries, limits.maxParallelRetries());
    }

    void releaseRetry() {
      retries.decrementAndGet();
    }

    /** Reserves a new connection unless {@code maxConnections} are open or being opened. */
    public boolean tryConnection(CircuitBreaker limits) {
      return tryAcquire(connections, limits.maxConnections());
    }

    /** Counts a connection opened without a reservation (past the limit, so it is not lost). */
    void addConnection() {
      connections.incrementAndGet();
    }

    public void releaseConnection() {
      connections.decrementAndGet();
    }

    int requests() {
      return requests.get();
    }

    int connections() {
      return connections.get();
    }

    /** Whether nothing is counted. */
    boolean idle() {
      return requests.get() == 0 && pending.get() == 0 && retries.get() == 0
          && connections.get() == 0;
    }

    private static boolean tryAcquire(AtomicInteger counter, int limit) {
      if (counter.incrementAndGet() > limit) {
        counter.decrementAndGet();
        return false;
      }
      return true;
    }
  }
}
