package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * The BackendTrafficPolicy's limits on a rule's upstream traffic: retries ({@code spec.retry}),
 * timeouts ({@code spec.timeout}), circuit breaker thresholds ({@code spec.circuitBreaker}) and
 * the per-endpoint connection pool ({@code spec.circuitBreaker.perEndpoint},
 * {@code spec.timeout.http} connection settings, {@code spec.http2}). A section the policy does
 * not set is null and the proxy-wide defaults apply.
 *
 * <p>How these combine with the HTTPRoute rule's own {@code retry} and {@code timeouts}
 * (Envoy Gateway v1.3+ behaviour): a rule that sets {@code retry} uses it instead of the
 * policy's retry as a whole; {@code timeouts.request} wins over {@code timeout.http.requestTimeout};
 * {@code timeouts.backendRequest} wins over {@code retry.perRetry.timeout}.
 *
 * @param retry {@code spec.retry}, or null when the policy does not retry
 * @param timeouts {@code spec.timeout.tcp.connectTimeout} and
 *     {@code spec.timeout.http.requestTimeout}, or null when neither is set
 * @param circuitBreaker {@code spec.circuitBreaker} limits counted per rule across the whole
 *     process, or null for no limits
 * @param connectionPool per-endpoint connection settings, or null for the proxy's defaults
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BackendResilience(Retry retry, Timeouts timeouts, CircuitBreaker circuitBreaker,
    ConnectionPool connectionPool) {

  /** Nothing set: the proxy-wide defaults apply. */
  public static final BackendResilience NONE = new BackendResilience(null, null, null, null);

  /**
   * What makes a failed attempt worth another one (Envoy Gateway {@code retry.retryOn.triggers},
   * Envoy's {@code x-envoy-retry-on} and {@code x-envoy-retry-grpc-on} values).
   */
  public enum Trigger {
    /** Any 5xx answer, and no answer at all (connect failure, reset, per-try timeout). */
    FIVE_XX("5xx"),
    /** A 502, 503 or 504 answer, a connect failure or a per-try timeout. */
    GATEWAY_ERROR("gateway-error"),
    /** No answer: the connection or stream was reset or timed out before the response head. */
    RESET("reset"),
    /** The connection could not be established (refused, timed out, name not resolved). */
    CONNECT_FAILURE("connect-failure"),
    /** A 409 answer. */
    RETRIABLE_4XX("retriable-4xx"),
    /** An HTTP/2 stream reset with REFUSED_STREAM (the endpoint did not process it). */
    REFUSED_STREAM("refused-stream"),
    /** An answer whose status is in {@link Retry#statusCodes()}. */
    RETRIABLE_STATUS_CODES("retriable-status-codes"),
    /** gRPC status CANCELLED (1) in the response headers. */
    CANCELLED("cancelled"),
    /** gRPC status DEADLINE_EXCEEDED (4) in the response headers. */
    DEADLINE_EXCEEDED("deadline-exceeded"),
    /** gRPC status INTERNAL (13) in the response headers. */
    INTERNAL("internal"),
    /** gRPC status RESOURCE_EXHAUSTED (8) in the response headers. */
    RESOURCE_EXHAUSTED("resource-exhausted"),
    /** gRPC status UNAVAILABLE (14) in the response headers. */
    UNAVAILABLE("unavailable");

    private final String value;

    Trigger(String value) {
      this.value = value;
    }

    /** Returns the name Envoy Gateway uses, e.g. {@code gateway-error}. */
    public String value() {
      return value;
    }

    /** Returns the trigger Envoy Gateway names {@code value}, or null when there is none. */
    public static Trigger of(String value) {
      for (Trigger trigger : values()) {
        if (trigger.value.equals(value)) {
          return trigger;
        }
      }
      return null;
    }
  }

  /**
   * Envoy Gateway {@code retry}: how often and on what a request is tried again, always on
   * another endpoint when there is one. Only requests without a body are retried, and
   * non-idempotent methods (POST, PATCH ...) only when the attempt never reached the endpoint
   * (connect failure).
   *
   * @param numRetries retries after the first attempt ({@code numRetries}, default 2)
   * @param triggers {@code retryOn.triggers}; default connect-failure, refused-stream,
   *     unavailable, cancelled, retriable-status-codes
   * @param statusCodes {@code retryOn.httpStatusCodes}, used by retriable-status-codes;
   *     default {503} when neither triggers nor codes are set
   * @param perTryTimeoutMillis {@code perRetry.timeout} (Envoy's {@code per_try_timeout}): how
   *     long one attempt may take, from when it has its connection and the client's request has
   *     fully arrived, until its response head; past it the attempt is reset and retried as a
   *     reset (triggers reset, 5xx, gateway-error), else answered 504. A body slower than that
   *     after a timely head is not cut. 0 for none (the proxy's upstream idle timeout only)
   * @param baseIntervalMillis {@code perRetry.backOff.baseInterval} (default 25): the n-th
   *     retry waits a random time below (2^n - 1) times it (full jitter, as Envoy)
   * @param maxIntervalMillis {@code perRetry.backOff.maxInterval}, the longest wait (default
   *     10 times the base)
   */
  public record Retry(int numRetries, Set<Trigger> triggers, Set<Integer> statusCodes,
      long perTryTimeoutMillis, long baseIntervalMillis, long maxIntervalMillis) {

    public Retry {
      // Ordered sets, so printed tables are stable.
      EnumSet<Trigger> sortedTriggers = EnumSet.noneOf(Trigger.class);
      sortedTriggers.addAll(triggers);
      triggers = Collections.unmodifiableSet(sortedTriggers);
      statusCodes = Collections.unmodifiableSet(new TreeSet<>(statusCodes));
      if (numRetries < 0 || perTryTimeoutMillis < 0 || baseIntervalMillis <= 0
          || maxIntervalMillis < baseIntervalMillis) {
        throw new IllegalArgumentException("retry: " + numRetries + " retries, per try "
            + perTryTimeoutMillis + " ms, backoff " + baseIntervalMillis + "-" + maxIntervalMillis
            + " ms (expected: >= 0, base > 0, max >= base)");
      }
    }

    /** Returns whether {@code trigger} is on. */
    public boolean on(Trigger trigger) {
      return triggers.contains(trigger);
    }
  }

  /**
   * Envoy Gateway {@code timeout}: time limits of the rule's upstream requests; 0 for unset.
   *
   * @param connectMillis {@code tcp.connectTimeout}: to establish a connection (TCP and TLS);
   *     0 for the proxy's connect timeout
   * @param requestMillis {@code http.requestTimeout}: from the request's arrival to the end of
   *     the response, as the HTTPRoute's {@code timeouts.request} (which wins when set); past
   *     it the client gets 504
   */
  public record Timeouts(long connectMillis, long requestMillis) {

    public Timeouts {
      if (connectMillis < 0 || requestMillis < 0) {
        throw new IllegalArgumentException("timeouts: " + connectMillis + "/" + requestMillis
            + " (expected: >= 0)");
      }
    }
  }

  /**
   * Envoy Gateway {@code circuitBreaker}: limits counted per rule over every proxy event loop
   * (Envoy Gateway makes one cluster per rule). Past a request limit the request is answered
   * 503 at once ({@code x-portico-failure: overflow}); a retry past {@code maxParallelRetries}
   * is not attempted and the attempt's own answer is returned; at {@code maxConnections} a
   * request waits (pending). Unset fields are 1024, as Envoy's.
   *
   * @param maxPendingRequests requests waiting for an upstream connection
   * @param maxParallelRequests requests in flight to the rule's endpoints
   * @param maxParallelRetries retries in flight (scheduled or sent)
   * @param maxConnections {@code circuitBreaker.maxConnections}: connections open to all the
   *     rule's endpoints together (HTTP/1.1, h2c and HTTPS backends). At the limit a request
   *     waits for one of its endpoint's connections on its event loop to be free (pending, so
   *     bounded by {@code maxPendingRequests}); as in Envoy, an endpoint with no connection on
   *     that event loop still gets one, so the bound is this plus endpoints times event loops
   */
  public record CircuitBreaker(int maxPendingRequests, int maxParallelRequests,
      int maxParallelRetries, int maxConnections) {

    /** Envoy's default for every threshold. */
    public static final int DEFAULT_LIMIT = 1024;

    public CircuitBreaker {
      if (maxPendingRequests < 0 || maxParallelRequests < 0 || maxParallelRetries < 0
          || maxConnections < 1) {
        throw new IllegalArgumentException("circuitBreaker: " + maxPendingRequests + "/"
            + maxParallelRequests + "/" + maxParallelRetries + "/" + maxConnections
            + " (expected: >= 0, maxConnections >= 1)");
      }
    }
  }

  /**
   * How connections to each endpoint of the rule are pooled: the policy's per-endpoint settings,
   * which need an upstream client of their own (pools are client options). Two rules with equal
   * pools share clients, unless they have a circuit breaker (whose connections are counted per
   * rule). Limits are for the whole process: each of the proxy's event loops gets its share
   * (rounded up). 0 for unset.
   *
   * @param maxConnections {@code circuitBreaker.perEndpoint.maxConnections}: connections per
   *     endpoint; requests beyond wait for a free one (the rule-wide
   *     {@code circuitBreaker.maxConnections} is {@link CircuitBreaker#maxConnections()})
   * @param maxRequestsPerConnection {@code circuitBreaker.maxRequestsPerConnection}: a
   *     connection that carried this many requests is closed once they are answered
   * @param idleTimeoutMillis {@code timeout.http.connectionIdleTimeout}: a pooled connection
   *     without requests for this long is closed (rounded up to seconds)
   * @param maxConnectionDurationMillis {@code timeout.http.maxConnectionDuration}: a connection
   *     older than this is not reused (rounded up to seconds)
   * @param http2InitialStreamWindowSize {@code http2.initialStreamWindowSize} in bytes: the
   *     receive window Portico announces per upstream HTTP/2 stream
   * @param http2InitialConnectionWindowSize {@code http2.initialConnectionWindowSize} in bytes:
   *     the receive window per upstream HTTP/2 connection
   * @param http2MaxConcurrentStreams {@code http2.maxConcurrentStreams}: streams Portico opens on
   *     one upstream HTTP/2 connection before opening another
   */
  public record ConnectionPool(int maxConnections, int maxRequestsPerConnection,
      long idleTimeoutMillis, long maxConnectionDurationMillis, int http2InitialStreamWindowSize,
      int http2InitialConnectionWindowSize, int http2MaxConcurrentStreams) {

    public ConnectionPool {
      if (maxConnections < 0 || maxRequestsPerConnection < 0 || idleTimeoutMillis < 0
          || maxConnectionDurationMillis < 0 || http2InitialStreamWindowSize < 0
          || http2InitialConnectionWindowSize < 0 || http2MaxConcurrentStreams < 0) {
        throw new IllegalArgumentException("connectionPool: negative setting (expected: >= 0)");
      }
    }
  }

  /** Returns whether nothing is set. */
  public boolean setsNothing() {
    return retry == null && timeouts == null && circuitBreaker == null && connectionPool == null;
  }
}
