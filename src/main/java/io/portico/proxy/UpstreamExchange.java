package io.portico.proxy;

import io.portico.ir.UpstreamPlan;
import io.portico.proxy.upstream.UpstreamClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * One request on its way upstream, across its attempts: what every attempt sends (fixed when
 * the exchange starts), and what changes from one attempt to the next (the retries left, the
 * circuit breaker counts it holds, the current attempt). Confined to the event loop.
 */
final class UpstreamExchange {

  /** The request, its route and backend, and what is sent upstream. */
  final ProxyRequest call;
  final HttpServerRequest request;
  /** The rule's plan: timeouts, retries, circuit breaker, pool. */
  final UpstreamPlan plan;
  /** The first endpoint, the candidates for retries, and how to speak to the backend. */
  final UpstreamTarget target;
  final UpstreamClient client;
  /** How long the upstream may stay silent during an attempt, in ms. */
  final long upstreamTimeout;
  final long connectTimeout;
  /** The rule's circuit breaker counters, or null when it has no circuit breaker. */
  final CircuitBreakers.Counters counters;
  /**
   * Requests one connection carries at once when the rule's maxConnections is counted (1 for
   * HTTP/1.1, the h2c stream limit, 0 for unknown); -1 when it is not (no circuit breaker).
   */
  final int streamsPerConnection;

  /**
   * The copy of the request's body being kept (for mirrors, or for retries), or null when none
   * is kept (see {@link ReplayBody}).
   */
  final ReplayBody bodyCopy;
  /**
   * {@link #bodyCopy} when it may also be sent again: a gRPC call under a retry policy; else
   * null (another request's body is never re-sent).
   */
  final ReplayBody replay;
  /** Whether an attempt has started sending the body (after which only the copy can be sent). */
  boolean bodySent;

  /** The current attempt's number; a callback of an earlier (abandoned) attempt is ignored. */
  int attempt;
  /** The current attempt while it waits for its response head, or null (see Forwarder). */
  SilenceSweep.Watched awaitedHead;
  /** The per-try timer of the current attempt, or -1. */
  long perTryTimer = -1;
  /** Retries the rule's retry policy still allows. */
  int retriesLeft;
  /** Retries taken so far (for the back-off). */
  int retries;
  /** Whether this request holds one of the rule's maxParallelRetries. */
  boolean holdsRetry;
  /** Whether the request's circuit breaker counts were released. */
  boolean finished;
  /**
   * Whether the free try on another endpoint was used: after a refused connection, or after
   * the free try on the same endpoint ({@link #staleRetryUsed}) was reset too.
   */
  boolean connectRetryUsed;
  /**
   * Whether the free retry after a stale pooled connection was used. Kept apart from
   * {@link #connectRetryUsed}: when a pod dies, its pooled connection resets and the retry on
   * the same endpoint is refused; that refusal still gets its try on another endpoint.
   */
  boolean staleRetryUsed;

  /**
   * @param bodyCopy the copy of the request body to keep as it streams, or null for none
   */
  UpstreamExchange(ProxyRequest call, UpstreamTarget target, UpstreamClient client,
      long upstreamTimeout, long connectTimeout, CircuitBreakers.Counters counters,
      int streamsPerConnection, ReplayBody bodyCopy) {
    this.call = call;
    this.request = call.request();
    this.plan = call.plan();
    this.target = target;
    this.client = client;
    this.upstreamTimeout = upstreamTimeout;
    this.connectTimeout = connectTimeout;
    this.counters = counters;
    this.streamsPerConnection = streamsPerConnection;
    // A streamed body cannot be sent twice, unless it is a gRPC call's, kept for the purpose.
    this.bodyCopy = bodyCopy;
    this.replay = bodyCopy != null && bodyCopy.forRetries() ? bodyCopy : null;
    this.retriesLeft = call.hasBody() && replay == null ? 0 : plan.retries();
  }

  /**
   * Whether another attempt may send the request again: it has no body, or its body (a gRPC
   * call's) was kept whole.
   */
  boolean replayable() {
    return !call.hasBody() || replay != null && replay.complete();
  }

  /**
   * Whether the retry policy (and the circuit breaker's maxParallelRetries) allows one more
   * try; uses it up when it does.
   */
  boolean takeRetry() {
    HttpServerResponse response = request.response();
    if (retriesLeft <= 0 || response.headWritten() || response.ended() || response.closed()
        || bodySent && !replayable()) {
      return false;
    }
    if (counters != null && !holdsRetry) {
      if (!counters.tryRetry(plan.circuitBreaker())) {
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
