package io.portico.health;

import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.HealthCheck;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The health of one endpoint of one backend port. Passive counters are atomics bumped from any
 * event loop; the verdict fields are guarded by the {@link HealthRegistry}'s lock; the active
 * probe streaks belong to the {@link HealthCheckVerticle}'s event loop.
 */
final class EndpointHealth {

  final BackendKey key;
  final Endpoint endpoint;

  final AtomicInteger consecutive5xx = new AtomicInteger();
  final AtomicInteger consecutiveGateway = new AtomicInteger();
  final AtomicInteger consecutiveLocal = new AtomicInteger();
  /** Read without the lock to skip counting for an endpoint already ejected. */
  volatile boolean ejected;

  // Guarded by the registry.
  boolean activeHealthy = true;
  long ejectedUntilNanos;
  int ejections;
  String reason = "new endpoint (starts healthy)";
  long sinceMillis;

  // Confined to the health check verticle.
  int probeFailures;
  int probeSuccesses;

  EndpointHealth(BackendKey key, Endpoint endpoint, long nowMillis) {
    this.key = key;
    this.endpoint = endpoint;
    this.sinceMillis = nowMillis;
  }

  /** Whether requests should go to it (when the pool is not in panic). */
  boolean healthy() {
    return activeHealthy && !ejected;
  }

  String state() {
    if (ejected) {
      return "Ejected";
    }
    return activeHealthy ? "Healthy" : "Unhealthy";
  }

  /**
   * Counts one outcome; returns why the endpoint should be ejected now, or null. Called on the
   * proxy's event loops: atomics only, and a counter is written on success only when non-zero.
   */
  String count(Outcome outcome, HealthCheck.Passive passive) {
    boolean split = passive.splitExternalLocalOriginErrors();
    switch (outcome) {
      case SUCCESS -> {
        clear(consecutive5xx);
        clear(consecutiveGateway);
        clear(consecutiveLocal);
        return null;
      }
      case ERROR_5XX -> {
        clear(consecutiveGateway);
        clear(consecutiveLocal);
        return check(consecutive5xx.incrementAndGet(), passive.consecutive5xxErrors(),
            "consecutive 5xx errors");
      }
      case GATEWAY_ERROR -> {
        clear(consecutiveLocal);
        String why = check(consecutiveGateway.incrementAndGet(),
            passive.consecutiveGatewayErrors(), "consecutive gateway errors");
        String why5xx = check(consecutive5xx.incrementAndGet(), passive.consecutive5xxErrors(),
            "consecutive 5xx errors");
        return why != null ? why : why5xx;
      }
      default -> {
        if (split) {
          return check(consecutiveLocal.incrementAndGet(),
              passive.consecutiveLocalOriginFailures(), "consecutive local origin failures");
        }
        // Unsplit, Envoy maps a local-origin failure to 503: a gateway error and a 5xx.
        String why = check(consecutiveGateway.incrementAndGet(),
            passive.consecutiveGatewayErrors(), "consecutive gateway errors (local origin)");
        String why5xx = check(consecutive5xx.incrementAndGet(), passive.consecutive5xxErrors(),
            "consecutive 5xx errors (local origin)");
        return why != null ? why : why5xx;
      }
    }
  }

  void resetCounters() {
    consecutive5xx.set(0);
    consecutiveGateway.set(0);
    consecutiveLocal.set(0);
  }

  private static String check(int count, int limit, String what) {
    return limit > 0 && count >= limit ? count + " " + what : null;
  }

  private static void clear(AtomicInteger counter) {
    if (counter.get() != 0) {
      counter.set(0);
    }
  }
}
