package io.portico.ir;

import java.util.Set;

/**
 * How a rule retries failed backend requests (Gateway API {@code HTTPRouteRule.retry},
 * GEP-1731). Only requests without a body are retried: a streamed body cannot be sent twice;
 * and non-idempotent methods (POST, PATCH ...) only after a connect failure, when the endpoint
 * cannot have seen them. When set, it replaces a BackendTrafficPolicy's retry as a whole (Envoy
 * Gateway v1.3+), see {@link BackendResilience.Retry}.
 *
 * @param codes response statuses that are retried (e.g. 500, 502, 503); connection failures
 *     (refused, reset, timed out) are always retried while attempts remain
 * @param attempts how many times one request may be retried (not counting the first try)
 * @param backoffMillis the pause before each retry
 */
public record RouteRetry(Set<Integer> codes, int attempts, long backoffMillis) {

  public static final RouteRetry NONE = new RouteRetry(Set.of(), 0, 0);

  public RouteRetry {
    codes = Set.copyOf(codes);
    if (attempts < 0 || backoffMillis < 0) {
      throw new IllegalArgumentException("retry: attempts " + attempts + ", backoff "
          + backoffMillis + " (expected: >= 0)");
    }
  }
}
