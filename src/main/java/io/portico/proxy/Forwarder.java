package io.portico.proxy;

import io.netty.handler.codec.DecoderException;
import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.Endpoint;
import io.portico.ir.RoutingTable;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamPlan;
import io.portico.ir.UpstreamTls;
import io.portico.proxy.lb.AffinityResponse;
import io.portico.proxy.lb.InFlightRequests;
import io.portico.proxy.upstream.UpstreamAnswer;
import io.portico.proxy.upstream.UpstreamCall;
import io.portico.proxy.upstream.UpstreamClient;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.concurrent.TimeoutException;

/**
 * Forwards one request to an endpoint, attempt by attempt, and hands the answer to the
 * {@link ResponseRelay}; both directions stream with back-pressure. The request's headers are
 * prepared by {@link UpstreamHeaders}: the route's filters (see {@link RequestFilters}) may
 * rewrite the URI and Host sent upstream (X-Forwarded-Host keeps the client's). The state of
 * one request across its attempts is an {@link UpstreamExchange}.
 *
 * <p>A request that never reached its endpoint (connection refused or timed out) is tried once
 * more on another endpoint; a body-less idempotent request whose pooled connection was found
 * closed is retried once, since the endpoint cannot have acted on it. Where the rule has a retry
 * policy (HTTPRoute {@code retry}, else a BackendTrafficPolicy's) these tries count against its
 * retries; beyond them the policy decides, see {@link RetryRules}. A BackendTrafficPolicy's
 * circuit breaker bounds requests, waits for a connection and retries in flight per rule (see {@link CircuitBreakers}) and the rule's
 * connections (see {@link RuleConnections}), its {@code retry.perRetry.timeout} bounds each
 * attempt until its response head, and its connection pool settings pick the upstream client
 * (see {@link UpstreamClients}; {@link UpstreamRetention} shuts down those a new table no
 * longer uses).
 */
final class Forwarder {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

  private final Vertx vertx;
  private final UpstreamClients clients;
  private final UpstreamTlsClients tlsClients;
  private final CircuitBreakers breakers;
  /** This verticle's part of circuitBreaker.maxConnections. */
  private final RuleConnections ruleConnections;
  private final UpstreamRetention retention;
  private final ProxyOptions options;
  private final ProxyMetrics metrics;
  /** Passive health checking: told the outcome of every attempt. */
  private final HealthRegistry health;
  private final ResponseRelay relay;
  private final Responder responder;
  /** Watches attempts waiting for their response head, and answers being relayed. */
  private final SilenceSweep silence;

  /**
   * @param clients the cleartext clients (HTTP/1.1 and h2c), per connection pool setting
   * @param tlsClients the clients for backends a BackendTLSPolicy targets
   */
  Forwarder(Vertx vertx, UpstreamClients clients, UpstreamTlsClients tlsClients,
      ProxyOptions options, ProxyMetrics metrics, Responder responder) {
    this.vertx = vertx;
    this.clients = clients;
    this.tlsClients = tlsClients;
    this.breakers = CircuitBreakers.of(vertx);
    this.ruleConnections = new RuleConnections(vertx);
    this.retention = new UpstreamRetention(clients, tlsClients, breakers, ruleConnections);
    this.options = options;
    this.metrics = metrics;
    this.health = HealthRegistry.of(vertx);
    this.silence = new SilenceSweep(vertx);
    this.relay = new ResponseRelay(silence, metrics, responder);
    this.responder = responder;
  }

  /**
   * Forwards {@code call}'s request (paused by the caller) to {@code target}'s endpoint, as the
   * rule's {@link io.portico.ir.UpstreamPlan} says.
   *
   * @param bodyCopy where to keep a copy of the body as it streams (see
   *     {@link #bodyCopy}), or null
   */
  void forward(ProxyRequest call, UpstreamTarget target, ReplayBody bodyCopy) {
    UpstreamPlan plan = call.plan();
    if (call.hasBody()) {
      RequestBody.watch(call.request(), responder);
    }
    CircuitBreaker limits = plan.circuitBreaker();
    CircuitBreakers.Counters counters = null;
    String rule = call.group().name();
    if (limits != null) {
      counters = breakers.counters(rule);
      if (!counters.tryRequest(limits)) {
        fail(call.request(), UpstreamFailure.CIRCUIT_OPEN, target.endpoint(),
            new IllegalStateException("maxParallelRequests " + limits.maxParallelRequests()
                + " of " + rule + " reached"));
        return;
      }
    }
    ConnectionPool pool = plan.connectionPool();
    // A rule with a circuit breaker has clients of its own, to count its connections.
    String owner = limits != null ? rule : null;
    UpstreamTls tls = target.tls();
    UpstreamClient upstreamClient = tls != null
        ? tlsClients.client(tls, target.clientCertificate(), pool, owner, target.h2c())
        : clients.client(pool, owner, target.h2c());
    // HTTP/2 (h2c, or h2 by ALPN) multiplexes; HTTP/1.1 takes one request per connection.
    int streamsPerConnection = limits == null ? -1 : !target.h2c() ? 1
        : pool == null ? 0 : pool.http2MaxConcurrentStreams();
    UpstreamExchange exchange = new UpstreamExchange(call, target, upstreamClient,
        plan.backendRequestTimeoutMillis() > 0 ? plan.backendRequestTimeoutMillis()
            : options.upstreamIdleTimeoutMillis(),
        plan.connectTimeoutMillis() > 0 ? plan.connectTimeoutMillis()
            : options.connectTimeoutMillis(),
        counters, streamsPerConnection, bodyCopy);
    attempt(exchange, target.endpoint());
  }

  /** Shuts down the TLS clients of settings no longer in use (see {@link UpstreamRetention}). */
  void retainTls(Collection<UpstreamTls> current, Collection<TlsCertificate> clientCertificates) {
    retention.retainTls(current, clientCertificates);
  }

  /**
   * Shuts down the clients of connection pool settings {@code table} no longer uses, and
   * forgets the circuit breaker counts of rules no longer in it that have nothing in flight
   * (see {@link UpstreamRetention}).
   */
  void retainPools(RoutingTable table) {
    retention.retainPools(table);
  }

  /**
   * Starts the next attempt on {@code endpoint}, once the circuit breaker's maxPendingRequests
   * admits it and, when the rule's connections are counted, a connection may be used.
   */
  private void attempt(UpstreamExchange exchange, Endpoint endpoint) {
    HttpServerRequest request = exchange.request;
    int attempt = ++exchange.attempt;
    CircuitBreaker limits = exchange.plan.circuitBreaker();
    if (exchange.counters != null && !exchange.counters.tryPending(limits)) {
      fail(exchange, UpstreamFailure.CIRCUIT_OPEN, endpoint, new IllegalStateException(
          "maxPendingRequests " + limits.maxPendingRequests() + " reached"));
      return;
    }
    RuleConnections.Ticket ticket = exchange.streamsPerConnection < 0 ? null
        : ruleConnections.ticket(exchange.call.group().name(), exchange.counters, limits,
            endpoint, exchange.streamsPerConnection);
    if (ticket == null) {
      send(exchange, endpoint, attempt, null);
      return;
    }
    ticket.enter(() -> send(exchange, endpoint, attempt, ticket));
  }

  /** Sends attempt number {@code attempt} (waiting for a connection, see RuleConnections). */
  private void send(UpstreamExchange exchange, Endpoint endpoint, int attempt,
      RuleConnections.Ticket ticket) {
    HttpServerRequest request = exchange.request;
    if (ticket != null && (request.response().ended() || request.response().closed())) {
      // It waited for a connection while the client left or the request timed out.
      exchange.counters.releasePending();
      ticket.release();
      exchange.finish();
      return;
    }
    exchange.client.request(endpoint, request.method(), exchange.call.upstreamUri(),
        exchange.connectTimeout).onComplete(ar -> {
      if (exchange.counters != null) {
        exchange.counters.releasePending();
      }
      Runnable ticketEnd = ticket == null ? null
          : ticket.track(ar.succeeded() ? ar.result() : null);
      if (ar.failed()) {
        requestFailed(exchange, endpoint, ar.cause());
        return;
      }
      UpstreamCall upstream = ar.result();
      HttpServerResponse clientSide = request.response();
      if (clientSide.closed() || clientSide.ended()) {
        // The client reset its stream (or left, or the request timeout answered) while this
        // attempt waited for a connection: give the stream back instead of sending a request
        // whose body can no longer be read.
        upstream.exceptionHandler(e -> { });
        upstream.reset();
        exchange.finish();
        if (ticketEnd != null) {
          ticketEnd.run();
        }
        if (clientSide.closed()) {
          ClientFailures.report(metrics, ClientFailureCause.STREAM_RESET,
              "request " + request.method() + " " + request.uri() + " reset by the client before"
                  + " it was forwarded");
        }
        return;
      }
      // One watch on the attempt's end for both counts it occupies.
      UpstreamAttempt.onEnd(upstream, ticketEnd,
          InFlightRequests.track(exchange.call.group(), endpoint));
      UpstreamHeaders.prepare(exchange.call, upstream);
      Future<UpstreamAnswer> response;
      if (exchange.call.hasBody() && exchange.bodySent) {
        // A retry of a gRPC call: the copy of its body, which the client has finished sending.
        UpstreamHeaders.frameBody(request, upstream);
        response = upstream.response();
        upstream.end(exchange.replay.body().copy());
      } else if (exchange.call.hasBody()) {
        exchange.bodySent = true;
        UpstreamHeaders.frameBody(request, upstream);
        response = upstream.response();
        if (exchange.bodyCopy != null) {
          RequestBody.stream(request, exchange.bodyCopy.copying(upstream), upstream, responder);
        } else {
          RequestBody.stream(request, upstream, responder);
        }
      } else {
        response = upstream.send();
        Responder.release(request);
      }
      request.response().closeHandler(v -> upstream.reset());
      if (exchange.plan.perTryTimeoutMillis() > 0) {
        // Envoy starts the per-try timer once the attempt has its connection and the client's
        // request has fully arrived.
        if (exchange.call.hasBody() && !request.isEnded()) {
          request.end().onComplete(v -> startPerTryTimer(exchange, attempt, upstream, endpoint));
        } else {
          startPerTryTimer(exchange, attempt, upstream, endpoint);
        }
      }
      exchange.awaitedHead = new AwaitedHead(exchange, upstream, endpoint);
      silence.watch(exchange.awaitedHead);
      response.onComplete(res -> responded(exchange, endpoint, attempt, res));
    });
  }

  /**
   * An attempt waiting for its response head, given up once its upstream has been silent for
   * the exchange's upstream timeout ({@code timeouts.backendRequest}, else
   * {@code --upstream-timeout}) since the request went out: watched by the verticle's
   * {@link SilenceSweep} rather than by a timer of its own. It is the exchange's
   * {@code awaitedHead} exactly while its attempt is the current one: whatever ends or gives up
   * an attempt stops awaiting its head first.
   */
  private final class AwaitedHead extends SilenceSweep.Watched {

    private final UpstreamExchange exchange;
    private final UpstreamCall upstream;
    private final Endpoint endpoint;
    private final long sentNanos = System.nanoTime();

    AwaitedHead(UpstreamExchange exchange, UpstreamCall upstream, Endpoint endpoint) {
      this.exchange = exchange;
      this.upstream = upstream;
      this.endpoint = endpoint;
    }

    @Override
    void checkSilence(long nowNanos) {
      long waitedMillis = (nowNanos - sentNanos) / 1_000_000;
      if (exchange.awaitedHead == this && waitedMillis >= exchange.upstreamTimeout) {
        giveUp(exchange, upstream, endpoint, new TimeoutException("no response head within "
            + exchange.upstreamTimeout + " ms (waited " + waitedMillis + " ms)"));
      }
    }
  }

  /** Stops watching the current attempt of {@code exchange} for its response head. */
  private void stopAwaitingHead(UpstreamExchange exchange) {
    if (exchange.awaitedHead != null) {
      silence.unwatch(exchange.awaitedHead);
      exchange.awaitedHead = null;
    }
  }

  /**
   * Gives up the current attempt of {@code exchange}, which got no response head in time: resets
   * it and retries when the retry policy allows it (as a reset: triggers reset, 5xx and
   * gateway-error, as Envoy), else answers 504.
   */
  private void giveUp(UpstreamExchange exchange, UpstreamCall upstream, Endpoint endpoint,
      TimeoutException cause) {
    stopAwaitingHead(exchange);
    cancelPerTryTimer(exchange);
    exchange.attempt++; // Its callbacks now see a newer number and leave the exchange alone.
    upstream.reset(0x8, cause); // CANCEL on HTTP/2; HTTP/1.1 closes the connection
    UpstreamFailure failure = UpstreamFailure.RESPONSE_TIMEOUT;
    reportFailure(endpoint, failure);
    retryOrFail(exchange, endpoint, failure, cause);
  }

  /**
   * Whether a free try (after a refused connection, or on a stale pooled one) may be made:
   * always without a retry policy; where the route or a policy sets how often a request may be
   * retried, it is one of those retries, so a request is never tried more often than set.
   */
  private static boolean takeFreeTry(UpstreamExchange exchange) {
    return exchange.plan.routeRetry() == null && exchange.plan.policyRetry() == null
        || exchange.takeRetry();
  }

  /**
   * Handles an attempt on {@code endpoint} that got no request stream: a request that never
   * reached the endpoint gets its free try on another one, else the retry policy decides.
   */
  private void requestFailed(UpstreamExchange exchange, Endpoint endpoint, Throwable cause) {
    HttpServerRequest request = exchange.request;
    UpstreamFailure failure = UpstreamFailure.of(cause);
    reportFailure(endpoint, failure);
    boolean tryElsewhere = failure.beforeConnect()
        && !request.response().closed() && !request.response().ended();
    if (!tryElsewhere || !freeTryElsewhere(exchange, endpoint)) {
      retryOrFail(exchange, endpoint, failure, cause);
    }
  }

  /**
   * Makes the request's one free try on an endpoint other than {@code endpoint}, when it has
   * not been made, there is another endpoint, and a retry policy (if any) has a try left;
   * returns whether it did.
   */
  private boolean freeTryElsewhere(UpstreamExchange exchange, Endpoint endpoint) {
    if (exchange.connectRetryUsed) {
      return false;
    }
    Endpoint other = exchange.target.endpoints().nextExcept(endpoint);
    if (other == null || !takeFreeTry(exchange)) {
      return false;
    }
    exchange.connectRetryUsed = true;
    attempt(exchange, other);
    return true;
  }

  /**
   * Handles the response head (or failure) of attempt number {@code attempt}: relays it, or
   * tries again when a free retry or the retry policy says so.
   */
  private void responded(UpstreamExchange exchange, Endpoint endpoint, int attempt,
      AsyncResult<UpstreamAnswer> res) {
    HttpServerRequest request = exchange.request;
    if (attempt != exchange.attempt) {
      // A timeout gave this attempt up (and reset it) already.
      if (res.succeeded()) {
        res.result().reset();
      }
      return;
    }
    cancelPerTryTimer(exchange);
    stopAwaitingHead(exchange);
    if (res.succeeded()) {
      UpstreamAnswer answer = res.result();
      health.report(endpoint, Outcome.ofStatus(answer.statusCode()));
      if (RetryRules.retriesAnswer(exchange.plan.routeRetry(), exchange.plan.policyRetry(),
          replaySafe(exchange), answer) && exchange.takeRetry()) {
        // Drain the refused answer so its connection can be reused, then try again.
        answer.discard();
        retryLater(exchange, endpoint);
        return;
      }
      // The affinity cookie or session names the endpoint that answers (maybe a retry's).
      AffinityResponse.answered(request, exchange.call.group(), endpoint);
      relay.relay(exchange, answer, endpoint);
      return;
    }
    UpstreamFailure failure = UpstreamFailure.of(res.cause());
    reportFailure(endpoint, failure);
    // A pooled connection the endpoint had closed: it cannot have seen the request. (Not an
    // answer that could not be parsed: that endpoint did see it.)
    boolean resetBeforeAnswer = !exchange.call.hasBody()
        && failure == UpstreamFailure.RESET && !(res.cause() instanceof DecoderException)
        && RetryRules.isIdempotent(request.method())
        && !request.response().headWritten() && !request.response().closed();
    if (resetBeforeAnswer && !exchange.staleRetryUsed && takeFreeTry(exchange)) {
      exchange.staleRetryUsed = true;
      attempt(exchange, endpoint);
      return;
    }
    // The free try on the same endpoint was reset as well: the endpoint is going away (a pod
    // that is stopping can still accept a new connection, then reset it). One more free try
    // goes to another endpoint, as after a refused connection.
    if (!resetBeforeAnswer || !exchange.staleRetryUsed || !freeTryElsewhere(exchange, endpoint)) {
      retryOrFail(exchange, endpoint, failure, res.cause());
    }
  }

  /**
   * Arms the per-try timeout of attempt number {@code attempt}: unless its response head has
   * arrived by then, the attempt is reset and retried when the retry policy allows it (as a
   * reset: triggers reset, 5xx and gateway-error, as Envoy), else answered 504.
   */
  private void startPerTryTimer(UpstreamExchange exchange, int attempt,
      UpstreamCall upstream, Endpoint endpoint) {
    if (attempt != exchange.attempt || exchange.perTryTimer >= 0) {
      return;
    }
    long perTryTimeout = exchange.plan.perTryTimeoutMillis();
    exchange.perTryTimer = vertx.setTimer(perTryTimeout, id -> {
      exchange.perTryTimer = -1;
      if (attempt == exchange.attempt) {
        giveUp(exchange, upstream, endpoint, new TimeoutException(
            "per-try timeout " + perTryTimeout + " ms passed before the response head"));
      }
    });
  }

  private void cancelPerTryTimer(UpstreamExchange exchange) {
    if (exchange.perTryTimer >= 0) {
      vertx.cancelTimer(exchange.perTryTimer);
      exchange.perTryTimer = -1;
    }
  }

  /** Tells passive health checking about an attempt that got no answer. */
  private void reportFailure(Endpoint endpoint, UpstreamFailure failure) {
    if (failure != UpstreamFailure.CLIENT_GONE) {
      health.report(endpoint, Outcome.LOCAL_ORIGIN_FAILURE);
    }
  }

  /**
   * Retries an attempt on {@code endpoint} that got no answer when the retry policy allows it,
   * else answers the client for {@code failure}.
   */
  private void retryOrFail(UpstreamExchange exchange, Endpoint endpoint, UpstreamFailure failure,
      Throwable cause) {
    if (RetryRules.retriesFailure(exchange.plan.routeRetry(), exchange.plan.policyRetry(),
        replaySafe(exchange), failure, cause) && exchange.takeRetry()) {
      retryLater(exchange, endpoint);
    } else {
      fail(exchange, failure, endpoint, cause);
    }
  }

  /**
   * The copy of {@code call}'s body to keep as it streams, or null when none is needed: for its
   * mirrors, or for the retries of a gRPC call (then the copy may also be sent again).
   */
  static ReplayBody bodyCopy(ProxyRequest call) {
    if (!call.hasBody()) {
      return null;
    }
    boolean forRetries = call.plan().retries() > 0 && GrpcAnswers.isGrpc(call.request());
    boolean forMirrors = call.ruleFilters().mirrors() != null
        || call.backendFilters().mirrors() != null;
    return forRetries || forMirrors ? new ReplayBody(forRetries) : null;
  }

  /**
   * Whether an attempt that may have reached the endpoint can be sent again: an idempotent
   * method, or a gRPC call whose body was kept whole. A gRPC call is a POST, but its retry
   * triggers are the user's word that it may be retried (as in Envoy, which retries gRPC calls
   * on them whatever the method).
   */
  private static boolean replaySafe(UpstreamExchange exchange) {
    return RetryRules.isIdempotent(exchange.request.method())
        || exchange.replay != null && exchange.replay.complete();
  }

  /** Retries on another endpoint (when there is one) after the policy's backoff. */
  private void retryLater(UpstreamExchange exchange, Endpoint tried) {
    Endpoint next = exchange.target.endpoints().nextExcept(tried);
    if (next == null) {
      next = exchange.target.endpoints().next();
    }
    if (next == null) {
      fail(exchange, UpstreamFailure.NO_ENDPOINTS, null,
          new IllegalStateException("no endpoint left"));
      return;
    }
    metrics.retried();
    long backoff = RetryRules.backoffMillis(exchange.plan.routeRetry(),
        exchange.plan.policyRetry(), exchange.retries);
    Endpoint chosen = next;
    if (backoff <= 0) {
      attempt(exchange, chosen);
    } else {
      vertx.setTimer(backoff, id -> {
        HttpServerResponse response = exchange.request.response();
        if (response.closed() || response.ended()) {
          // The client left, or the rule's request timeout answered, during the back-off:
          // nobody is waiting for this retry.
          exchange.finish();
          return;
        }
        attempt(exchange, chosen);
      });
    }
  }

  private void fail(UpstreamExchange exchange, UpstreamFailure failure, Endpoint endpoint,
      Throwable cause) {
    exchange.finish();
    fail(exchange.request, failure, endpoint, cause);
  }

  private void fail(HttpServerRequest request, UpstreamFailure failure, Endpoint endpoint,
      Throwable cause) {
    LOG.debug("upstream {} for {} {}: {} ({})", endpoint, request.method(), request.uri(),
        failure.label(), cause.toString());
    responder.fail(request, failure, failure.label() + " (" + endpoint + ")");
  }
}
