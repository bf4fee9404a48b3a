package io.portico.ir;

/**
 * The BackendTrafficPolicy's limits on a rule's upstream traffic: retries, timeouts, circuit
 * breaker thresholds, connection pool and upstream HTTP/2 settings.
 */
public record BackendResilience() {

  /** Nothing set: the proxy-wide defaults apply. */
  public static final BackendResilience NONE = new BackendResilience();
}
