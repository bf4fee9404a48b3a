package io.portico.translate;

import io.portico.ir.BackendResilience;

import java.util.Map;

/**
 * Reads a BackendTrafficPolicy's {@code retry}, {@code timeout}, {@code circuitBreaker},
 * {@code connection} and {@code http2} into a {@link BackendResilience}.
 */
final class ResilienceSpec {

  private ResilienceSpec() {
  }

  static BackendResilience parse(Map<String, Object> spec) throws InvalidPolicy {
    return BackendResilience.NONE;
  }
}
