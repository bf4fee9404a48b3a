package io.portico.proxy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;

/**
 * Counts what the proxy did with each request, with meters registered once: Vert.x's own
 * per-request HTTP metrics looked meters up by tags on every request and cost about a tenth of
 * the proxy's throughput in bench/, so they are off and these take their place.
 *
 * <p>{@code portico_requests_total{outcome}}: {@code forwarded}, {@code redirected} (answered
 * by a RequestRedirect filter) or an {@link UpstreamFailure} label; {@code portico_upstream_responses_total{class}}: 1xx to 5xx of forwarded responses.
 */
final class ProxyMetrics {

  static final ProxyMetrics NONE = new ProxyMetrics(null);

  private final Counter forwarded;
  private final Counter redirected;
  private final Counter mirrored;
  private final Counter retried;
  private final Counter[] failures;
  private final Counter[] responseClasses;
  private final Counter[] clientFailures;
  private final Counter connectionsRefused;
  private final Counter eventLoopErrors;

  private ProxyMetrics(MeterRegistry registry) {
    if (registry == null) {
      forwarded = null;
      redirected = null;
      mirrored = null;
      retried = null;
      failures = null;
      responseClasses = null;
      clientFailures = null;
      connectionsRefused = null;
      eventLoopErrors = null;
      return;
    }
    forwarded = Counter.builder("portico.requests").tag("outcome", "forwarded")
        .description("Requests by what the proxy did with them").register(registry);
    redirected = Counter.builder("portico.requests").tag("outcome", "redirected")
        .register(registry);
    retried = Counter.builder("portico.retries")
        .description("Backend requests retried by a route's retry policy").register(registry);
    mirrored = Counter.builder("portico.mirrored.requests")
        .description("Copies sent by RequestMirror filters").register(registry);
    UpstreamFailure[] values = UpstreamFailure.values();
    failures = new Counter[values.length];
    for (UpstreamFailure failure : values) {
      failures[failure.ordinal()] = failureCounter(registry, failure);
    }
    responseClasses = new Counter[5];
    for (int i = 0; i < 5; i++) {
      responseClasses[i] = Counter.builder("portico.upstream.responses")
          .tag("class", (i + 1) + "xx").description("Upstream responses by status class")
          .register(registry);
    }
    connectionsRefused = Counter.builder("portico.client.connections.refused")
        .description("Client connections closed at accept: the listener's connection limit was"
            + " reached").register(registry);
    ClientFailureCause[] causes = ClientFailureCause.values();
    clientFailures = new Counter[causes.length];
    for (ClientFailureCause cause : causes) {
      clientFailures[cause.ordinal()] = clientFailureCounter(registry, cause);
    }
    eventLoopErrors = Counter.builder("portico.event.loop.errors")
        .description("Exceptions no handler caught on a proxy event loop: a bug in Portico, each"
            + " logged with its stack trace").register(registry);
  }

  /** Returns metrics registered in {@code registry}, or ones that count nothing when it is null. */
  static ProxyMetrics create(MeterRegistry registry) {
    return registry == null ? NONE : new ProxyMetrics(registry);
  }

  /**
   * Counts {@code failure} where no verticle's metrics are at hand (a connection Vert.x has not
   * made an HTTP connection yet, see {@link FirstHeadDeadline}): the same counter the
   * verticles' metrics increment, looked up in the registry, so only for rare events.
   */
  static void countOutsideVerticle(UpstreamFailure failure) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      failureCounter(registry, failure).increment();
    }
  }

  /** Counts a client failure where no verticle's metrics are at hand (see {@link LibraryLogs}). */
  static void countOutsideVerticle(ClientFailureCause cause) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry != null) {
      clientFailureCounter(registry, cause).increment();
    }
  }

  private static Counter clientFailureCounter(MeterRegistry registry, ClientFailureCause cause) {
    return Counter.builder("portico.client.failures").tag("cause", cause.label())
        .description("Failures the client caused (resets, closed connections), not logged each")
        .register(registry);
  }

  /** The counter of requests that ended in {@code failure} (the registry keeps one per tag). */
  private static Counter failureCounter(MeterRegistry registry, UpstreamFailure failure) {
    return Counter.builder("portico.requests").tag("outcome", failure.label()).register(registry);
  }

  void forwarded(int upstreamStatus) {
    if (forwarded == null) {
      return;
    }
    forwarded.increment();
    int statusClass = upstreamStatus / 100 - 1;
    if (statusClass >= 0 && statusClass < 5) {
      responseClasses[statusClass].increment();
    }
  }

  void retried() {
    if (retried != null) {
      retried.increment();
    }
  }

  void mirrored() {
    if (mirrored != null) {
      mirrored.increment();
    }
  }

  void redirected() {
    if (redirected != null) {
      redirected.increment();
    }
  }

  void failed(UpstreamFailure failure) {
    if (failures != null) {
      failures[failure.ordinal()].increment();
    }
  }

  void connectionRefused() {
    if (connectionsRefused != null) {
      connectionsRefused.increment();
    }
  }

  void clientFailure(ClientFailureCause cause) {
    if (clientFailures != null) {
      clientFailures[cause.ordinal()].increment();
    }
  }

  void eventLoopError() {
    if (eventLoopErrors != null) {
      eventLoopErrors.increment();
    }
  }
}
