package io.portico.translate;

import io.portico.ir.BackendResilience;
import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.BackendResilience.Timeouts;
import io.portico.ir.BackendResilience.Trigger;

import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.portico.translate.InvalidPolicy.invalid;
import static io.portico.translate.PolicyFields.map;
import static io.portico.translate.PolicyFields.string;

/**
 * Reads a BackendTrafficPolicy's {@code retry}, {@code timeout}, {@code circuitBreaker} and
 * {@code http2} into a {@link BackendResilience}, with Envoy Gateway's field names and
 * defaults:
 *
 * <pre>
 * retry: {numRetries, retryOn: {triggers: [...], httpStatusCodes: [...]},
 *         perRetry: {timeout, backOff: {baseInterval, maxInterval}}}
 * timeout: {tcp: {connectTimeout},
 *           http: {connectionIdleTimeout, maxConnectionDuration, requestTimeout}}
 * circuitBreaker: {maxConnections, maxPendingRequests, maxParallelRequests, maxParallelRetries,
 *                  maxRequestsPerConnection, perEndpoint: {maxConnections}}
 * http2: {initialStreamWindowSize, initialConnectionWindowSize, maxConcurrentStreams}
 * </pre>
 */
final class ResilienceSpec {

  /** Envoy Gateway's default {@code retry.numRetries}. */
  static final int DEFAULT_RETRIES = 2;
  /** Envoy's default back-off base interval. */
  static final long DEFAULT_BASE_INTERVAL_MILLIS = 25;
  /** Envoy Gateway's default triggers when {@code retryOn} is unset. */
  static final Set<Trigger> DEFAULT_TRIGGERS = EnumSet.of(Trigger.CONNECT_FAILURE,
      Trigger.REFUSED_STREAM, Trigger.UNAVAILABLE, Trigger.CANCELLED,
      Trigger.RETRIABLE_STATUS_CODES);

  private static final int MAX_LIMIT = Integer.MAX_VALUE;
  /** RFC 9113 6.9.2: HTTP/2 window sizes. */
  private static final long MIN_WINDOW = 65_535;
  private static final long MAX_WINDOW = 2_147_483_647;

  private ResilienceSpec() {
  }

  static BackendResilience parse(Map<String, Object> spec) throws InvalidPolicy {
    Map<String, Object> timeout = section(spec, "timeout", "spec.timeout");
    Map<String, Object> tcp = timeout == null ? null : section(timeout, "tcp", "spec.timeout.tcp");
    Map<String, Object> http = timeout == null ? null
        : section(timeout, "http", "spec.timeout.http");
    Map<String, Object> breaker = section(spec, "circuitBreaker", "spec.circuitBreaker");
    Map<String, Object> http2 = section(spec, "http2", "spec.http2");
    Retry retry = retry(section(spec, "retry", "spec.retry"));
    Timeouts timeouts = timeouts(tcp, http);
    // Before circuitBreaker(): it refuses a maxConnections of 0 with the field's message.
    ConnectionPool pool = connectionPool(http, breaker, http2);
    return new BackendResilience(retry, timeouts, circuitBreaker(breaker), pool);
  }

  private static Retry retry(Map<String, Object> retry) throws InvalidPolicy {
    if (retry == null) {
      return null;
    }
    int numRetries = PolicyFields.integer(retry, "numRetries", "spec.retry.numRetries", 0,
        MAX_LIMIT, DEFAULT_RETRIES);
    Set<Trigger> triggers = EnumSet.copyOf(DEFAULT_TRIGGERS);
    Set<Integer> codes = Set.of(503);
    Map<String, Object> retryOn = section(retry, "retryOn", "spec.retry.retryOn");
    if (retryOn != null) {
      triggers = EnumSet.noneOf(Trigger.class);
      List<?> names = list(retryOn, "triggers", "spec.retry.retryOn.triggers");
      for (int i = 0; i < names.size(); i++) {
        Trigger trigger = Trigger.of(string(names.get(i)));
        if (trigger == null) {
          throw invalid("spec.retry.retryOn.triggers[" + i + "]: unknown trigger "
              + names.get(i) + " (5xx, gateway-error, reset, connect-failure, retriable-4xx, "
              + "refused-stream, retriable-status-codes, cancelled, deadline-exceeded, internal, "
              + "resource-exhausted, unavailable)");
        }
        triggers.add(trigger);
      }
      codes = new LinkedHashSet<>();
      List<?> statuses = list(retryOn, "httpStatusCodes", "spec.retry.retryOn.httpStatusCodes");
      for (int i = 0; i < statuses.size(); i++) {
        Object status = statuses.get(i);
        String field = "spec.retry.retryOn.httpStatusCodes[" + i + "]";
        if (!(status instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
          throw invalid(field + ": " + status + " is not an integer");
        }
        // Envoy Gateway's HTTPStatus: 100-599.
        if (n.intValue() < 100 || n.intValue() > 599) {
          throw invalid(field + ": " + n.intValue() + " is out of range [100, 599]");
        }
        codes.add(n.intValue());
      }
      if (triggers.isEmpty() && codes.isEmpty()) {
        throw invalid("spec.retry.retryOn: set triggers or httpStatusCodes");
      }
      if (!codes.isEmpty() && !triggers.contains(Trigger.RETRIABLE_STATUS_CODES)) {
        // Envoy Gateway adds the trigger when codes are listed, so listing them is enough.
        triggers.add(Trigger.RETRIABLE_STATUS_CODES);
      }
    }
    long perTry = 0;
    long base = DEFAULT_BASE_INTERVAL_MILLIS;
    long max = 0;
    Map<String, Object> perRetry = section(retry, "perRetry", "spec.retry.perRetry");
    if (perRetry != null) {
      perTry = positiveMillis(perRetry, "timeout", "spec.retry.perRetry.timeout");
      Map<String, Object> backOff = section(perRetry, "backOff", "spec.retry.perRetry.backOff");
      if (backOff != null) {
        long b = positiveMillis(backOff, "baseInterval",
            "spec.retry.perRetry.backOff.baseInterval");
        base = b > 0 ? b : base;
        max = positiveMillis(backOff, "maxInterval", "spec.retry.perRetry.backOff.maxInterval");
        if (max > 0 && max < base) {
          throw invalid("spec.retry.perRetry.backOff.maxInterval: " + backOff.get("maxInterval")
              + " is shorter than baseInterval " + (b > 0 ? backOff.get("baseInterval")
              : base + "ms (default)"));
        }
      }
    }
    return new Retry(numRetries, triggers, codes, perTry, base, max > 0 ? max : 10 * base);
  }

  private static Timeouts timeouts(Map<String, Object> tcp, Map<String, Object> http)
      throws InvalidPolicy {
    long connect = tcp == null ? 0
        : positiveMillis(tcp, "connectTimeout", "spec.timeout.tcp.connectTimeout");
    long request = http == null ? 0
        : millis(http, "requestTimeout", "spec.timeout.http.requestTimeout");
    return connect == 0 && request == 0 ? null : new Timeouts(connect, request);
  }

  private static CircuitBreaker circuitBreaker(Map<String, Object> breaker) throws InvalidPolicy {
    if (breaker == null || !(breaker.containsKey("maxPendingRequests")
        || breaker.containsKey("maxParallelRequests")
        || breaker.containsKey("maxParallelRetries") || breaker.containsKey("maxConnections"))) {
      return null;
    }
    return new CircuitBreaker(
        limit(breaker, "maxPendingRequests", "spec.circuitBreaker.maxPendingRequests"),
        limit(breaker, "maxParallelRequests", "spec.circuitBreaker.maxParallelRequests"),
        limit(breaker, "maxParallelRetries", "spec.circuitBreaker.maxParallelRetries"),
        // 0 is refused by connectionPool(), which reads the field first.
        limit(breaker, "maxConnections", "spec.circuitBreaker.maxConnections"));
  }

  private static ConnectionPool connectionPool(Map<String, Object> http,
      Map<String, Object> breaker, Map<String, Object> http2) throws InvalidPolicy {
    int maxConnections = 0;
    int perConnection = 0;
    if (breaker != null) {
      int rule = PolicyFields.integer(breaker, "maxConnections",
          "spec.circuitBreaker.maxConnections", 0, MAX_LIMIT, 0);
      Map<String, Object> perEndpoint = section(breaker, "perEndpoint",
          "spec.circuitBreaker.perEndpoint");
      int endpoint = perEndpoint == null ? 0 : PolicyFields.integer(perEndpoint,
          "maxConnections", "spec.circuitBreaker.perEndpoint.maxConnections", 0, MAX_LIMIT, 0);
      if (breaker.containsKey("maxConnections") && rule == 0
          || perEndpoint != null && perEndpoint.containsKey("maxConnections") && endpoint == 0) {
        throw invalid("spec.circuitBreaker" + (rule == 0 && breaker.containsKey("maxConnections")
            ? "" : ".perEndpoint") + ".maxConnections: 0 would refuse every request"
            + " (expected: >= 1)");
      }
      // The rule-wide maxConnections is counted by the circuit breaker, not the pools.
      maxConnections = endpoint;
      perConnection = PolicyFields.integer(breaker, "maxRequestsPerConnection",
          "spec.circuitBreaker.maxRequestsPerConnection", 0, MAX_LIMIT, 0);
    }
    long idle = 0;
    long lifetime = 0;
    if (http != null) {
      idle = positiveMillis(http, "connectionIdleTimeout", "spec.timeout.http.connectionIdleTimeout");
      lifetime = positiveMillis(http, "maxConnectionDuration",
          "spec.timeout.http.maxConnectionDuration");
    }
    int streamWindow = 0;
    int connectionWindow = 0;
    int streams = 0;
    if (http2 != null) {
      streamWindow = window(http2, "initialStreamWindowSize",
          "spec.http2.initialStreamWindowSize");
      connectionWindow = window(http2, "initialConnectionWindowSize",
          "spec.http2.initialConnectionWindowSize");
      streams = PolicyFields.integer(http2, "maxConcurrentStreams",
          "spec.http2.maxConcurrentStreams", 1, MAX_LIMIT, 0);
    }
    if (maxConnections == 0 && perConnection == 0 && idle == 0 && lifetime == 0
        && streamWindow == 0 && connectionWindow == 0 && streams == 0) {
      return null;
    }
    return new ConnectionPool(maxConnections, perConnection, idle, lifetime, streamWindow,
        connectionWindow, streams);
  }

  /** Returns the map at {@code key}, null when unset; fails when it is not a map. */
  private static Map<String, Object> section(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    Object value = parent.get(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof Map<?, ?>)) {
      throw invalid(field + ": expected an object, got " + value);
    }
    return map(value);
  }

  private static List<?> list(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    Object value = parent.get(key);
    if (value != null && !(value instanceof List<?>)) {
      throw invalid(field + ": expected a list, got " + value);
    }
    return PolicyFields.list(value);
  }

  private static int limit(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    return PolicyFields.integer(parent, key, field, 0, MAX_LIMIT, CircuitBreaker.DEFAULT_LIMIT);
  }

  /** Returns the duration in milliseconds (rounded up), 0 when unset or zero. */
  private static long millis(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    Duration duration = PolicyFields.duration(parent, key, field);
    if (duration == null) {
      return 0;
    }
    long millis = duration.toMillis();
    return duration.toNanosPart() % 1_000_000 == 0 ? millis : millis + 1;
  }

  /** Like {@link #millis} for a field where zero makes no sense. */
  private static long positiveMillis(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    long millis = millis(parent, key, field);
    if (millis == 0 && parent.get(key) != null) {
      throw invalid(field + ": " + parent.get(key) + " must be longer than 0");
    }
    return millis;
  }

  /**
   * Reads an HTTP/2 window size: a number or a Kubernetes quantity ("64Ki", "1Mi"), within
   * 65535 and 2^31-1 bytes as Envoy Gateway validates it; 0 when unset.
   */
  private static int window(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    Object value = parent.get(key);
    if (value == null) {
      return 0;
    }
    long bytes = quantity(value);
    if (bytes < 0) {
      throw invalid(field + ": " + value + " is not a size (e.g. 65536, 64Ki, 1Mi)");
    }
    if (bytes < MIN_WINDOW || bytes > MAX_WINDOW) {
      throw invalid(field + ": " + value + " must be between 65535 and 2147483647 bytes");
    }
    return (int) bytes;
  }

  /** Returns a whole-byte quantity, or -1 when {@code value} is not one. */
  static long quantity(Object value) {
    if (value instanceof Number n) {
      return n.doubleValue() == Math.rint(n.doubleValue()) ? n.longValue() : -1;
    }
    String text = value.toString().trim();
    String[] suffixes = {"Ki", "Mi", "Gi", "k", "M", "G"};
    long[] factors = {1L << 10, 1L << 20, 1L << 30, 1_000, 1_000_000, 1_000_000_000};
    long factor = 1;
    for (int i = 0; i < suffixes.length; i++) {
      if (text.endsWith(suffixes[i])) {
        factor = factors[i];
        text = text.substring(0, text.length() - suffixes[i].length());
        break;
      }
    }
    if (text.isEmpty() || text.length() > 12 || !text.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    return Long.parseLong(text) * factor;
  }
}
