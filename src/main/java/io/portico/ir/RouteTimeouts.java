package io.portico.ir;

/**
 * Time limits of one route rule (Gateway API {@code HTTPRouteRule.timeouts}, GEP-1742). Each
 * limit set here wins over its BackendTrafficPolicy counterpart ({@code request} over
 * {@code timeout.http.requestTimeout}, {@code backendRequest} over
 * {@code retry.perRetry.timeout}), see {@link BackendResilience}.
 *
 * @param requestMillis from the request's arrival to the end of the response; past it the
 *     client gets 504 (or, once the response has started, a reset); 0 for no limit
 * @param backendRequestMillis for one request to a backend, until its response head; 0 for no
 *     limit beyond the proxy's upstream idle timeout
 */
public record RouteTimeouts(long requestMillis, long backendRequestMillis) {

  public static final RouteTimeouts NONE = new RouteTimeouts(0, 0);

  public RouteTimeouts {
    if (requestMillis < 0 || backendRequestMillis < 0) {
      throw new IllegalArgumentException("timeouts: " + requestMillis + "/" + backendRequestMillis
          + " (expected: >= 0)");
    }
  }
}
