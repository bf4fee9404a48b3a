package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * How the endpoints of a rule's backends are health checked (Envoy Gateway BackendTrafficPolicy
 * {@code spec.healthCheck}: active probes and passive outlier detection) and when unhealthy ones
 * are used anyway ({@code panicThreshold}).
 *
 * <p>Health is kept per endpoint of a backend port ({@link BackendKey} + {@link Endpoint}), not
 * per route: two rules sending to the same Service port share one verdict. When rules that
 * reach the same backend port carry different checks, the check of the rule whose name sorts
 * first wins (see {@code io.portico.health.HealthPlan}).
 *
 * @param active periodic probes of every endpoint, or null for none
 *     ({@code healthCheck.active})
 * @param passive outlier ejection from the outcome of real requests, or null for none
 *     ({@code healthCheck.passive})
 * @param panicThreshold percent (0-100) of a backend port's endpoints that must be healthy for
 *     health to be honoured; below it every endpoint is used (Envoy's panic mode, default 50),
 *     so a fully ejected pool still serves. 0 never panics: with no healthy endpoint requests
 *     get 503 ({@code healthCheck.panicThreshold})
 */
public record HealthCheck(@JsonInclude(JsonInclude.Include.NON_NULL) Active active,
    @JsonInclude(JsonInclude.Include.NON_NULL) Passive passive,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = DefaultPanic.class)
    int panicThreshold) {

  /** Envoy's default panic threshold, in percent. */
  public static final int DEFAULT_PANIC_THRESHOLD = 50;

  /** No health checking: every ready endpoint is used. */
  public static final HealthCheck NONE = new HealthCheck(null, null, DEFAULT_PANIC_THRESHOLD);

  public HealthCheck {
    if (panicThreshold < 0 || panicThreshold > 100) {
      throw new IllegalArgumentException("panicThreshold: " + panicThreshold
          + " (expected: 0-100)");
    }
  }

  /** Returns whether endpoints are checked at all (actively or passively). */
  public boolean enabled() {
    return active != null || passive != null;
  }

  /** Leaves the default panic threshold out of printed tables. */
  static final class DefaultPanic {
    @Override
    public boolean equals(Object other) {
      return other instanceof Integer i && i == DEFAULT_PANIC_THRESHOLD;
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  /** The kind of probe an active check sends ({@code healthCheck.active.type}). */
  public enum Type {
    /** An HTTP/1.1 request; healthy when the status (and body) are as expected. */
    HTTP,
    /** A TCP connection, optionally sending a payload and expecting one back. */
    TCP,
    /** The gRPC health protocol ({@code grpc.health.v1.Health/Check}) over cleartext HTTP/2. */
    GRPC
  }

  /**
   * Periodic probes of every endpoint ({@code healthCheck.active}). An endpoint starts healthy,
   * turns unhealthy after {@code unhealthyThreshold} failed probes in a row and healthy again
   * after {@code healthyThreshold} successful ones in a row.
   *
   * @param type the probe ({@code type}: HTTP, TCP or GRPC)
   * @param timeoutMillis how long one probe may take before it counts as failed
   *     ({@code timeout}, default 1s)
   * @param intervalMillis time between the end of one probe and the start of the next
   *     ({@code interval}, default 3s)
   * @param unhealthyThreshold failed probes in a row that make an endpoint unhealthy
   *     ({@code unhealthyThreshold}, >= 1, default 3)
   * @param healthyThreshold successful probes in a row that make an unhealthy endpoint healthy
   *     ({@code healthyThreshold}, >= 1, default 1)
   * @param http what an HTTP probe asks and expects; null unless {@code type} is HTTP
   * @param tcp what a TCP probe sends and expects; null unless {@code type} is TCP
   * @param grpcService the service named in a gRPC probe ({@code grpc.service}); empty asks
   *     about the whole server; null unless {@code type} is GRPC
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Active(Type type, long timeoutMillis, long intervalMillis, int unhealthyThreshold,
      int healthyThreshold, HttpProbe http, TcpProbe tcp, String grpcService) {

    public Active {
      Objects.requireNonNull(type, "type");
      if (timeoutMillis <= 0 || intervalMillis <= 0) {
        throw new IllegalArgumentException("timeout/interval: " + timeoutMillis + "/"
            + intervalMillis + " ms (expected: > 0)");
      }
      if (unhealthyThreshold < 1 || healthyThreshold < 1) {
        throw new IllegalArgumentException("thresholds: " + unhealthyThreshold + "/"
            + healthyThreshold + " (expected: >= 1)");
      }
    }
  }

  /**
   * An HTTP probe ({@code healthCheck.active.http}).
   *
   * @param hostname the Host header sent; empty sends the endpoint's address
   *     ({@code hostname}; Envoy sends the cluster name when unset)
   * @param path the request path, e.g. {@code /healthz} ({@code path}, required)
   * @param method the request method ({@code method}, default GET)
   * @param expectedStatuses the statuses that count as healthy ({@code expectedStatuses},
   *     default [200])
   * @param expectedResponse bytes the response body must contain, or null for any body
   *     ({@code expectedResponse})
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record HttpProbe(@JsonInclude(JsonInclude.Include.NON_EMPTY) String hostname, String path, String method,
      List<Integer> expectedStatuses, Payload expectedResponse) {

    public HttpProbe {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(method, "method");
      hostname = hostname == null ? "" : hostname;
      expectedStatuses = List.copyOf(expectedStatuses);
    }
  }

  /**
   * A TCP probe ({@code healthCheck.active.tcp}): connect, send {@code send} if set, and wait
   * for {@code receive} if set; a probe with neither is a plain connect check.
   *
   * @param send bytes written once connected, or null
   * @param receive bytes that must arrive (anywhere in what the endpoint answers), or null
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TcpProbe(Payload send, Payload receive) {
  }

  /**
   * Bytes to send or expect ({@code ActiveHealthCheckPayload}), as written: exactly one of the
   * two is set.
   *
   * @param text the bytes as UTF-8 text ({@code type: Text}, {@code text})
   * @param binary the bytes base64-encoded ({@code type: Binary}, {@code binary})
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Payload(String text, String binary) {

    public Payload {
      if ((text == null) == (binary == null)) {
        throw new IllegalArgumentException("payload: exactly one of text and binary");
      }
    }

    /** Returns the payload's bytes. */
    public byte[] bytes() {
      return text != null ? text.getBytes(java.nio.charset.StandardCharsets.UTF_8)
          : Base64.getDecoder().decode(binary);
    }
  }

  /**
   * Outlier detection from real traffic ({@code healthCheck.passive}, Envoy outlier detection).
   * An endpoint is ejected when one of the enabled consecutive counters reaches its limit, for
   * {@code baseEjectionMillis} times the number of times it has been ejected, unless that would
   * eject more than {@code maxEjectionPercent} of its backend port's endpoints (at least one
   * may always be ejected). Counters are checked on every outcome; ejections expire at the
   * analysis sweep every {@code intervalMillis}.
   *
   * @param splitExternalLocalOriginErrors when true, connect failures, resets and timeouts
   *     (local origin) count only towards {@code consecutiveLocalOriginFailures}; when false
   *     (default) they count as gateway errors (5xx)
   * @param intervalMillis time between ejection analysis sweeps ({@code interval}, default 3s)
   * @param consecutiveLocalOriginFailures local-origin failures in a row that eject, used only
   *     when split (default 5); 0 disables
   * @param consecutiveGatewayErrors 502/503/504 answers (and, unsplit, local-origin failures) in
   *     a row that eject (default 0: disabled)
   * @param consecutive5xxErrors 5xx answers (and, unsplit, local-origin failures) in a row that
   *     eject ({@code consecutive5XxErrors}, default 5); 0 disables
   * @param baseEjectionMillis how long a first ejection lasts ({@code baseEjectionTime},
   *     default 30s)
   * @param maxEjectionPercent at most this percent of a backend port's endpoints are ejected at
   *     once (default 10)
   */
  public record Passive(boolean splitExternalLocalOriginErrors, long intervalMillis,
      int consecutiveLocalOriginFailures, int consecutiveGatewayErrors, int consecutive5xxErrors,
      long baseEjectionMillis, int maxEjectionPercent) {

    public Passive {
      if (intervalMillis <= 0 || baseEjectionMillis <= 0) {
        throw new IllegalArgumentException("interval/baseEjectionTime: " + intervalMillis + "/"
            + baseEjectionMillis + " ms (expected: > 0)");
      }
      if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent: " + maxEjectionPercent
            + " (expected: 0-100)");
      }
    }
  }
}
