package io.portico.proxy;

import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.BackendResilience.Trigger;
import io.portico.ir.RouteRetry;
import io.portico.proxy.upstream.UpstreamAnswer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.StreamResetException;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides whether a failed attempt is tried again, under either the HTTPRoute rule's
 * {@code retry} (GEP-1731) or a BackendTrafficPolicy's {@code retry} (Envoy Gateway's triggers),
 * and how long to wait first. Exactly one of the two is in effect for a request: the rule's,
 * when it sets one (Envoy Gateway v1.3+: the Gateway API field takes precedence).
 *
 * <p>Safe by default, for both: an attempt that may have reached the endpoint (it answered, was
 * reset, or timed out) is retried only for idempotent methods; a connect failure is retried for
 * every method. Requests with a body are never re-sent (checked by the caller), except gRPC
 * calls whose body was kept for the purpose (see {@link ReplayBody}).
 */
final class RetryRules {

  /** HTTP/2 REFUSED_STREAM: the endpoint did not process the stream (RFC 9113 8.7). */
  private static final long REFUSED_STREAM = 0x7;

  private RetryRules() {
  }

  /**
   * Whether an answer with this status is retried.
   *
   * @param replaySafe whether the request may be sent again once it reached the endpoint (an
   *     idempotent method, or a gRPC call whose body was kept)
   */
  static boolean retriesAnswer(RouteRetry route, Retry policy, boolean replaySafe,
      UpstreamAnswer answer) {
    if (!replaySafe) {
      return false;
    }
    int status = answer.statusCode();
    if (route != null) {
      return route.codes().contains(status);
    }
    if (policy == null) {
      return false;
    }
    if (policy.on(Trigger.FIVE_XX) && status >= 500
        || policy.on(Trigger.GATEWAY_ERROR) && status >= 502 && status <= 504
        || policy.on(Trigger.RETRIABLE_4XX) && status == 409
        || policy.on(Trigger.RETRIABLE_STATUS_CODES) && policy.statusCodes().contains(status)) {
      return true;
    }
    String grpc = answer.headers().get("grpc-status");
    if (grpc == null) {
      return false;
    }
    return switch (grpc) {
      case "1" -> policy.on(Trigger.CANCELLED);
      case "4" -> policy.on(Trigger.DEADLINE_EXCEEDED);
      case "8" -> policy.on(Trigger.RESOURCE_EXHAUSTED);
      case "13" -> policy.on(Trigger.INTERNAL);
      case "14" -> policy.on(Trigger.UNAVAILABLE);
      default -> false;
    };
  }

  /** Whether an attempt that got no answer is retried. */
  static boolean retriesFailure(RouteRetry route, Retry policy, HttpMethod method,
      UpstreamFailure failure, Throwable cause) {
    return retriesFailure(route, policy, isIdempotent(method), failure, cause);
  }

  /**
   * Whether an attempt that got no answer is retried.
   *
   * @param replaySafe as for {@link #retriesAnswer(RouteRetry, Retry, boolean,
   *     UpstreamAnswer)}
   */
  static boolean retriesFailure(RouteRetry route, Retry policy, boolean replaySafe,
      UpstreamFailure failure, Throwable cause) {
    if (failure == UpstreamFailure.CLIENT_GONE || failure == UpstreamFailure.CIRCUIT_OPEN) {
      return false;
    }
    boolean refused = cause instanceof StreamResetException reset
        && reset.getCode() == REFUSED_STREAM;
    if (!failure.beforeConnect() && !refused && !replaySafe) {
      return false;
    }
    if (route != null) {
      // GEP-1731: connection errors are retried whatever the codes.
      return true;
    }
    if (policy == null) {
      return false;
    }
    if (policy.on(Trigger.FIVE_XX) || policy.on(Trigger.GATEWAY_ERROR)) {
      return true;
    }
    if (failure.beforeConnect()) {
      // Envoy's "reset" covers every stream reset reason, a failed connection included.
      return policy.on(Trigger.CONNECT_FAILURE) || policy.on(Trigger.RESET);
    }
    return policy.on(Trigger.RESET) || refused && policy.on(Trigger.REFUSED_STREAM);
  }

  /**
   * Returns the wait before retry number {@code retry} (1 for the first): the rule's fixed
   * backoff, or Envoy's fully jittered exponential back-off, a random time below
   * (2^retry - 1) times the base interval, capped at the max interval.
   */
  static long backoffMillis(RouteRetry route, Retry policy, int retry) {
    if (route != null) {
      return route.backoffMillis();
    }
    long ceiling = policy.baseIntervalMillis() * ((1L << Math.min(retry, 20)) - 1);
    ceiling = Math.min(ceiling, policy.maxIntervalMillis());
    return ceiling <= 0 ? 0 : ThreadLocalRandom.current().nextLong(ceiling);
  }

  /** RFC 9110 9.2.2. */
  static boolean isIdempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
        || method == HttpMethod.PUT || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
  }
}
