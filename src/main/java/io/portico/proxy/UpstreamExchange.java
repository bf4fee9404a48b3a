package io.portico.proxy;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.Filters;
import io.portico.ir.RouteRetry;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;

/**
 * One request on its way upstream, across its attempts: what every attempt sends, the retries
 * it has left and what it holds of the rule's circuit breaker. Confined to the event loop.
 */
final class UpstreamExchange {
  final HttpClient client;
  /** The TLS server name (BackendTLSPolicy hostname), or null for cleartext. */
  final String serverName;
  final HttpServerRequest request;
  /** The URI sent upstream (rewritten, if a filter says so). */
  final String uri;
  /** The client's authority, for X-Forwarded-Host. */
  final HostAndPort authority;
  /** The authority sent upstream (rewritten, if a filter says so). */
  final HostAndPort upstreamAuthority;
  final Filters ruleFilters;
  final Filters backendFilters;
  final RoundRobin endpoints;
  final boolean hasBody;
  final long upstreamTimeout;
  /** The rule: its load balancing and session persistence see each attempt and answer. */
  BackendGroup group;
  final long connectTimeout;
  /** The pool's circuitBreaker.maxRequestsPerConnection, 0 for unlimited. */
  int maxRequestsPerConnection;
  /** The HTTPRoute rule's retry, or null when it sets none. */
  final RouteRetry routeRetry;
  /** The BackendTrafficPolicy's retry, or null when the rule's applies or neither is set. */
  final Retry policyRetry;
  /** The circuit breaker limits and the rule's counters, or null for none. */
  final CircuitBreaker limits;
  final CircuitBreakers.Counters counters;
  /** The policy's {@code retry.perRetry.timeout} in ms, 0 for none. */
  long perTryTimeout;
  /** The current attempt's number; a callback of an earlier (abandoned) attempt is ignored. */
  int attempt;
  /** The per-try timer of the current attempt, or -1. */
  long perTryTimer = -1;
  /**
   * Requests one connection carries at once when the rule's maxConnections is counted (1 for
   * HTTP/1.1, the h2c stream limit, 0 for unknown); -1 when it is not (no circuit breaker).
   */
  int streamsPerConnection = -1;
  /** Retries the rule's retry policy still allows. */
  int retriesLeft;
  /** Retries taken so far (for the back-off). */
  int retries;
  /** Whether this request holds one of the rule's maxParallelRetries. */
  boolean holdsRetry;
  /** Whether the request's circuit breaker counts were released. */
  boolean finished;
  /** Whether the free retry on another endpoint after a refused connection was used. */
  boolean connectRetryUsed;
  /**
   * Whether the free retry after a stale pooled connection was used. Kept apart from
   * {@link #connectRetryUsed}: when a pod dies, its pooled connection resets and the retry on
   * the same endpoint is refused; that refusal still gets its try on another endpoint.
   */
  boolean staleRetryUsed;

  UpstreamExchange(HttpClient client, String serverName, HttpServerRequest request, String uri,
      HostAndPort authority,
      HostAndPort upstreamAuthority, Filters ruleFilters, Filters backendFilters,
      RoundRobin endpoints, boolean hasBody, long upstreamTimeout, long connectTimeout,
      RouteRetry routeRetry, Retry policyRetry, CircuitBreaker limits,
      CircuitBreakers.Counters counters) {
    this.client = client;
    this.serverName = serverName;
    this.request = request;
    this.uri = uri;
    this.authority = authority;
    this.upstreamAuthority = upstreamAuthority;
    this.ruleFilters = ruleFilters;
    this.backendFilters = backendFilters;
    this.endpoints = endpoints;
    this.hasBody = hasBody;
    this.upstreamTimeout = upstreamTimeout;
    this.connectTimeout = connectTimeout;
    this.routeRetry = routeRetry;
    this.policyRetry = policyRetry;
    this.limits = limits;
    this.counters = counters;
    // A streamed body cannot be sent twice.
    this.retriesLeft = hasBody ? 0 : routeRetry != null ? routeRetry.attempts()
        : policyRetry != null ? policyRetry.numRetries() : 0;
  }

  /**
   * Whether the retry policy (and the circuit breaker's maxParallelRetries) allows one more
   * try; uses it up when it does.
   */
  boolean takeRetry() {
    HttpServerResponse response = request.response();
    if (retriesLeft <= 0 || response.headWritten() || response.ended() || response.closed()) {
      return false;
    }
    if (counters != null && !holdsRetry) {
      if (!counters.tryRetry(limits)) {
        return false;
      }
      holdsRetry = true;
    }
    retriesLeft--;
    retries++;
    return true;
  }

  /** Releases what the request holds of the circuit breaker; safe to call more than once. */
  void finish() {
    if (finished) {
      return;
    }
    finished = true;
    if (counters != null) {
      counters.releaseRequest();
      if (holdsRetry) {
        counters.releaseRetry();
      }
    }
  }
}
