package io.portico.proxy.tcp;

import io.portico.ir.Endpoint;
import io.portico.ir.LoadBalancing;
import io.portico.proxy.lb.EndpointAffinity;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the stream connections (and UDP sessions) open over every event loop of one Portico,
 * per endpoint (for {@code LeastRequest}: a connection is a stream route's request, as in
 * Envoy's TCP proxy; a rule's {@code circuitBreaker.maxConnections} is counted by
 * {@link io.portico.proxy.CircuitBreakers}, as for HTTP routes); and picks an
 * endpoint as a rule's BackendTrafficPolicy says. Thread-safe; a count that falls to zero is
 * forgotten, so churn does not grow the maps.
 */
final class StreamConnections implements Shareable {

  private static final String SHARED_NAME = "portico.stream-connections";

  private final ConcurrentMap<Endpoint, AtomicInteger> endpoints = new ConcurrentHashMap<>();

  /** Returns the instance of {@code vertx}, creating it on first use. */
  static StreamConnections of(Vertx vertx) {
    LocalMap<String, StreamConnections> shared = vertx.sharedData().getLocalMap(SHARED_NAME);
    return shared.computeIfAbsent(SHARED_NAME, key -> new StreamConnections());
  }

  /**
   * Returns the endpoint for a new connection (or session) from {@code clientHost} among
   * {@code candidates} (the backend's endpoints as health checking leaves them), other than
   * {@code except} when there is another; null when there is none.
   *
   * @param roundRobin the round robin over {@code candidates}, for {@code RoundRobin}
   */
  Endpoint pick(LoadBalancing policy, List<Endpoint> candidates, RoundRobin roundRobin,
      String clientHost, Endpoint except) {
    int size = candidates.size();
    if (size == 0 || size == 1 && candidates.get(0).equals(except)) {
      return null;
    }
    if (size == 1) {
      return candidates.get(0);
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    Endpoint picked = switch (policy.type()) {
      case RANDOM -> candidates.get(random.nextInt(size));
      case LEAST_REQUEST -> {
        // Envoy's least request, choice count 2: of two distinct random endpoints, the one
        // with fewer open connections.
        int first = random.nextInt(size);
        int second = random.nextInt(size - 1);
        second = second >= first ? second + 1 : second;
        Endpoint a = candidates.get(first);
        Endpoint b = candidates.get(second);
        yield open(b) < open(a) ? b : a;
      }
      case SOURCE_IP -> clientHost == null ? roundRobin.next()
          : EndpointAffinity.byKey(candidates, clientHost);
      default -> except == null ? roundRobin.next() : roundRobin.nextExcept(except);
    };
    if (picked != null && picked.equals(except)) {
      // A retry after a refused connect: the next endpoint in the list instead.
      picked = candidates.get((candidates.indexOf(picked) + 1) % size);
    }
    return picked;
  }

  /** Counts a connection open to {@code endpoint}. */
  void opened(Endpoint endpoint) {
    endpoints.compute(endpoint, (e, count) -> {
      AtomicInteger counted = count == null ? new AtomicInteger() : count;
      counted.incrementAndGet();
      return counted;
    });
  }

  /** Gives back a connection counted by {@link #opened}. */
  void closed(Endpoint endpoint) {
    endpoints.computeIfPresent(endpoint,
        (e, count) -> count.decrementAndGet() <= 0 ? null : count);
  }

  /** Returns how many connections are open to {@code endpoint}. */
  int open(Endpoint endpoint) {
    AtomicInteger count = endpoints.get(endpoint);
    return count == null ? 0 : count.get();
  }
}
