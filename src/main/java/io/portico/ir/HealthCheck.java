package io.portico.ir;

/**
 * How the endpoints of a rule's backends are health checked (BackendTrafficPolicy
 * {@code healthCheck}: active probes and passive outlier detection) and when unhealthy ones are
 * used anyway ({@code panicThreshold}). Health is kept per endpoint, not per route.
 */
public record HealthCheck() {

  /** No health checking: every ready endpoint is used. */
  public static final HealthCheck NONE = new HealthCheck();
}
