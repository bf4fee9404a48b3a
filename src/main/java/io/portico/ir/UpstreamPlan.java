package io.portico.ir;

import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.BackendResilience.Retry;

import java.util.Objects;

/**
 * Says how the requests of one route rule travel upstream, resolved once at translation time
 * from the HTTPRoute rule ({@code timeouts}, {@code retry}) and the BackendTrafficPolicy that
 * covers it ({@code timeout}, {@code retry}, {@code circuitBreaker}, connection pool), so the
 * proxy merges nothing per request.
 *
 * <p>The precedence is Envoy Gateway's (v1.3+): a rule's {@code retry} replaces the policy's
 * retry as a whole; {@code timeouts.request} wins over {@code timeout.http.requestTimeout};
 * {@code timeouts.backendRequest} wins over the policy's {@code retry.perRetry.timeout}.
 *
 * @param requestTimeoutMillis from the request's arrival to the end of the response
 *     ({@code timeouts.request}, else the policy's {@code timeout.http.requestTimeout}); past it
 *     the client gets 504. 0 for none
 * @param backendRequestTimeoutMillis how long an upstream may stay silent during one attempt
 *     ({@code timeouts.backendRequest}); 0 for the proxy's {@code --upstream-timeout}
 * @param perTryTimeoutMillis how long one attempt may wait for its response head (the policy's
 *     {@code retry.perRetry.timeout}, only when the policy's retry applies and the rule sets no
 *     {@code backendRequest}); 0 for none
 * @param connectTimeoutMillis the policy's {@code timeout.tcp.connectTimeout}; 0 for the
 *     proxy's connect timeout
 * @param routeRetry the rule's {@code retry} (GEP-1731), or null when it sets none
 * @param policyRetry the policy's {@code retry}, or null when the rule's applies or neither is
 *     set; at most one of {@code routeRetry} and {@code policyRetry} is non-null
 * @param retries the retries one request may take beyond its first attempt (requests with a
 *     body are never re-sent, whatever this says)
 * @param circuitBreaker the policy's limits, counted per rule, or null for none
 * @param connectionPool the policy's per-endpoint connection settings, or null for the proxy's
 *     defaults
 */
public record UpstreamPlan(long requestTimeoutMillis, long backendRequestTimeoutMillis,
    long perTryTimeoutMillis, long connectTimeoutMillis, RouteRetry routeRetry, Retry policyRetry,
    int retries, CircuitBreaker circuitBreaker, ConnectionPool connectionPool) {

  /** No limits, no retries, the proxy's defaults. */
  public static final UpstreamPlan DEFAULT = new UpstreamPlan(0, 0, 0, 0, null, null, 0, null,
      null);

  public UpstreamPlan {
    if (requestTimeoutMillis < 0 || backendRequestTimeoutMillis < 0 || perTryTimeoutMillis < 0
        || connectTimeoutMillis < 0 || retries < 0) {
      throw new IllegalArgumentException("upstream plan: negative limit (expected: >= 0)");
    }
    if (routeRetry != null && policyRetry != null) {
      throw new IllegalArgumentException("upstream plan: routeRetry and policyRetry both set "
          + "(expected: at most one)");
    }
  }

  /** Resolves the plan of a rule with these {@code timeouts}, {@code retry} and {@code traffic}. */
  public static UpstreamPlan compile(RouteTimeouts timeouts, RouteRetry retry,
      TrafficPolicy traffic) {
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(traffic, "traffic");
    BackendResilience resilience = traffic.resilience();
    RouteRetry routeRetry = retry.equals(RouteRetry.NONE) ? null : retry;
    Retry policyRetry = routeRetry == null ? resilience.retry() : null;
    long requestTimeout = timeouts.requestMillis() > 0 ? timeouts.requestMillis()
        : resilience.timeouts() == null ? 0 : resilience.timeouts().requestMillis();
    long perTryTimeout = timeouts.backendRequestMillis() <= 0 && policyRetry != null
        ? policyRetry.perTryTimeoutMillis() : 0;
    long connectTimeout = resilience.timeouts() == null ? 0
        : resilience.timeouts().connectMillis();
    int retries = routeRetry != null ? routeRetry.attempts()
        : policyRetry != null ? policyRetry.numRetries() : 0;
    if (requestTimeout == 0 && timeouts.backendRequestMillis() == 0 && perTryTimeout == 0
        && connectTimeout == 0 && routeRetry == null && policyRetry == null
        && resilience.circuitBreaker() == null && resilience.connectionPool() == null) {
      return DEFAULT;
    }
    return new UpstreamPlan(requestTimeout, timeouts.backendRequestMillis(), perTryTimeout,
        connectTimeout, routeRetry, policyRetry, retries, resilience.circuitBreaker(),
        resilience.connectionPool());
  }
}
