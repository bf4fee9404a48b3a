package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.BackendGroup;
import io.portico.ir.BackendResilience;
import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.ir.Route;
import io.portico.ir.RouteRetry;
import io.portico.ir.RouteTimeouts;
import io.portico.ir.RoutingTable;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.proxy.lb.AffinityResponse;
import io.portico.proxy.lb.InFlightRequests;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
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
 * closed is retried once, since the endpoint cannot have acted on it. Beyond these free tries,
 * the rule's retry policy (HTTPRoute {@code retry}, else a BackendTrafficPolicy's) decides, see
 * {@link RetryRules}; a BackendTrafficPolicy's circuit breaker bounds requests, waits for a
 * connection and retries in flight per rule (see {@link CircuitBreakers}) and the rule's
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

  /**
   * @param clients the cleartext clients (HTTP/1.1 and h2c), per connection pool setting
   * @param tlsClients the clients for backends a BackendTLSPolicy targets
   */
  Forwarder(Vertx vertx, UpstreamClients clients, UpstreamTlsClients tlsClients,
      ProxyOptions options, ProxyMetrics metrics) {
    this.vertx = vertx;
    this.clients = clients;
    this.tlsClients = tlsClients;
    this.breakers = CircuitBreakers.of(vertx);
    this.ruleConnections = new RuleConnections(vertx);
    this.retention = new UpstreamRetention(clients, tlsClients, breakers, ruleConnections);
    this.options = options;
    this.metrics = metrics;
    this.health = HealthRegistry.of(vertx);
    this.relay = new ResponseRelay(metrics);
  }

  /**
   * Forwards {@code request} (paused by the caller) to {@code endpoint}; {@code endpoints}
   * supplies another endpoint for a retry.
   *
   * @param path the normalized request path
   * @param route the selected route, whose rule filters apply
   * @param backendFilters the filters of the picked backendRef
   * @param tls the backend's usable BackendTLSPolicy setting, or null for cleartext
   * @param clientCertificate the certificate to present when {@code tls} is set (the
   *     Gateway's backend client certificate), or null for none
   */
  void forward(HttpServerRequest request, String path, HostAndPort authority, Endpoint endpoint,
      RoundRobin endpoints, boolean h2c, UpstreamTls tls, TlsCertificate clientCertificate,
      BackendGroup group, Route route, Filters backendFilters) {
    RouteTimeouts timeouts = group.timeouts();
    BackendResilience resilience = group.traffic().resilience();
    // The HTTPRoute rule's retry replaces the policy's as a whole (Envoy Gateway v1.3+); the
    // translator gives rules without one the NONE instance.
    RouteRetry routeRetry = group.retry() != RouteRetry.NONE ? group.retry() : null;
    Retry policyRetry = routeRetry == null ? resilience.retry() : null;
    // The rule's backendRequest limit replaces the proxy-wide upstream idle timeout (and wins
    // over the policy's per-try timeout); the per-try timeout bounds each attempt until its
    // response head, as Envoy's per_try_timeout.
    long upstreamTimeout = timeouts.backendRequestMillis() > 0 ? timeouts.backendRequestMillis()
        : options.upstreamIdleTimeoutMillis();
    long perTryTimeout = timeouts.backendRequestMillis() <= 0 && policyRetry != null
        ? policyRetry.perTryTimeoutMillis() : 0;
    long connectTimeout = resilience.timeouts() != null
        && resilience.timeouts().connectMillis() > 0
        ? resilience.timeouts().connectMillis() : options.connectTimeoutMillis();
    CircuitBreaker limits = resilience.circuitBreaker();
    CircuitBreakers.Counters counters = null;
    if (limits != null) {
      counters = breakers.counters(group.name());
      if (!counters.tryRequest(limits)) {
        fail(request, UpstreamFailure.CIRCUIT_OPEN, endpoint,
            new IllegalStateException("maxParallelRequests " + limits.maxParallelRequests()
                + " of " + group.name() + " reached"));
        return;
      }
    }
    Filters ruleFilters = route.filters();
    String uri;
    HostAndPort upstreamAuthority;
    if (ruleFilters.urlRewrite() == null && backendFilters.urlRewrite() == null) {
      uri = uri(request, path);
      upstreamAuthority = authority;
    } else {
      uri = RequestFilters.upstreamUri(request, path, route, backendFilters);
      upstreamAuthority = RequestFilters.upstreamAuthority(authority, route, backendFilters);
    }
    ConnectionPool pool = resilience.connectionPool();
    // A rule with a circuit breaker has clients of its own, to count its connections.
    String owner = limits != null ? group.name() : null;
    HttpClient upstreamClient = tls != null
        ? tlsClients.client(tls, clientCertificate, pool, owner)
        : clients.client(pool, owner, h2c);
    UpstreamExchange exchange = new UpstreamExchange(upstreamClient,
        tls == null ? null : tls.hostname(), request, uri, authority, upstreamAuthority,
        ruleFilters, backendFilters, endpoints, UpstreamHeaders.hasBody(request),
        upstreamTimeout, connectTimeout, routeRetry, policyRetry, limits, counters);
    if (pool != null) {
      exchange.maxRequestsPerConnection = pool.maxRequestsPerConnection();
    }
    exchange.group = group;
    exchange.perTryTimeout = perTryTimeout;
    if (limits != null) {
      // Upstream TLS is HTTP/1.1 (no ALPN); h2c multiplexes.
      exchange.streamsPerConnection = tls != null || !h2c ? 1
          : pool == null ? 0 : pool.http2MaxConcurrentStreams();
    }
    attempt(exchange, endpoint);
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
    RequestOptions requestOptions = new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()))
        .setMethod(request.method())
        .setURI(exchange.uri)
        .setConnectTimeout(exchange.connectTimeout)
        .setIdleTimeout(exchange.upstreamTimeout);
    if (exchange.serverName != null) {
      // The peer's name: Vert.x sends it as SNI (the socket still goes to the endpoint).
      requestOptions.setHost(exchange.serverName).setPort(endpoint.port());
    }
    if (exchange.counters != null && !exchange.counters.tryPending(exchange.limits)) {
      fail(exchange, UpstreamFailure.CIRCUIT_OPEN, endpoint, new IllegalStateException(
          "maxPendingRequests " + exchange.limits.maxPendingRequests() + " reached"));
      return;
    }
    RuleConnections.Ticket ticket = exchange.streamsPerConnection < 0 ? null
        : ruleConnections.ticket(exchange.group.name(), exchange.counters, exchange.limits,
            endpoint, exchange.streamsPerConnection);
    if (ticket == null) {
      send(exchange, endpoint, attempt, requestOptions, null);
      return;
    }
    ticket.enter(() -> send(exchange, endpoint, attempt, requestOptions, ticket));
  }

  /** Sends attempt number {@code attempt} (waiting for a connection, see RuleConnections). */
  private void send(UpstreamExchange exchange, Endpoint endpoint, int attempt,
      RequestOptions requestOptions, RuleConnections.Ticket ticket) {
    HttpServerRequest request = exchange.request;
    if (ticket != null && (request.response().ended() || request.response().closed())) {
      // It waited for a connection while the client left or the request timed out.
      exchange.counters.releasePending();
      ticket.release();
      exchange.finish();
      return;
    }
    exchange.client.request(requestOptions).onComplete(ar -> {
      if (exchange.counters != null) {
        exchange.counters.releasePending();
      }
      if (ticket != null) {
        ticket.track(ar.succeeded() ? ar.result() : null);
      }
      if (ar.failed()) {
        requestFailed(exchange, endpoint, ar.cause());
        return;
      }
      HttpClientRequest upstream = ar.result();
      InFlightRequests.track(exchange.group, endpoint, upstream);
      if (exchange.maxRequestsPerConnection > 0) {
        clients.countRequest(upstream.connection(), exchange.maxRequestsPerConnection);
      }
      UpstreamHeaders.prepare(request, upstream, exchange.authority, exchange.upstreamAuthority,
          exchange.ruleFilters, exchange.backendFilters);
      Future<HttpClientResponse> response;
      if (exchange.hasBody) {
        UpstreamHeaders.frameBody(request, upstream);
        response = upstream.send(request);
      } else {
        response = upstream.send();
        request.resume();
      }
      request.response().closeHandler(v -> upstream.reset());
      if (exchange.perTryTimeout > 0) {
        // Envoy starts the per-try timer once the attempt has its connection and the client's
        // request has fully arrived.
        if (exchange.hasBody && !request.isEnded()) {
          request.end().onComplete(v -> startPerTryTimer(exchange, attempt, upstream, endpoint));
        } else {
          startPerTryTimer(exchange, attempt, upstream, endpoint);
        }
      }
      response.onComplete(res -> responded(exchange, endpoint, attempt, res));
    });
  }

  /**
   * Handles an attempt on {@code endpoint} that got no request stream: a request that never
   * reached the endpoint gets its free try on another one, else the retry policy decides.
   */
  private void requestFailed(UpstreamExchange exchange, Endpoint endpoint, Throwable cause) {
    HttpServerRequest request = exchange.request;
    UpstreamFailure failure = UpstreamFailure.of(cause);
    reportFailure(endpoint, failure);
    Endpoint other = !exchange.connectRetryUsed && failure.beforeConnect()
        && !request.response().closed() && !request.response().ended()
        ? exchange.endpoints.nextExcept(endpoint) : null;
    if (other != null) {
      exchange.connectRetryUsed = true;
      attempt(exchange, other);
    } else {
      retryOrFail(exchange, endpoint, failure, cause);
    }
  }

  /**
   * Handles the response head (or failure) of attempt number {@code attempt}: relays it, or
   * tries again when a free retry or the retry policy says so.
   */
  private void responded(UpstreamExchange exchange, Endpoint endpoint, int attempt,
      AsyncResult<HttpClientResponse> res) {
    HttpServerRequest request = exchange.request;
    cancelPerTryTimer(exchange);
    if (attempt != exchange.attempt) {
      // The per-try timeout gave this attempt up (and reset it) already.
      if (res.succeeded()) {
        res.result().request().reset();
      }
      return;
    }
    if (res.succeeded()) {
      HttpClientResponse answer = res.result();
      health.report(endpoint, Outcome.ofStatus(answer.statusCode()));
      if (RetryRules.retriesAnswer(exchange.routeRetry, exchange.policyRetry,
          request.method(), answer) && exchange.takeRetry()) {
        // Drain the refused answer so its connection can be reused, then try again.
        answer.exceptionHandler(e -> { });
        answer.end();
        retryLater(exchange, endpoint);
        return;
      }
      // The affinity cookie or session names the endpoint that answers (maybe a retry's).
      AffinityResponse.answered(request, exchange.group, endpoint);
      relay.relay(exchange, answer, endpoint);
      return;
    }
    UpstreamFailure failure = UpstreamFailure.of(res.cause());
    reportFailure(endpoint, failure);
    // A pooled connection the endpoint had closed: it cannot have seen the request.
    boolean staleConnection = !exchange.staleRetryUsed && !exchange.hasBody
        && failure == UpstreamFailure.RESET && RetryRules.isIdempotent(request.method())
        && !request.response().headWritten() && !request.response().closed();
    if (staleConnection) {
      exchange.staleRetryUsed = true;
      attempt(exchange, endpoint);
    } else {
      retryOrFail(exchange, endpoint, failure, res.cause());
    }
  }

  /**
   * Arms the per-try timeout of attempt number {@code attempt}: unless its response head has
   * arrived by then, the attempt is reset and retried when the retry policy allows it (as a
   * reset: triggers reset, 5xx and gateway-error, as Envoy), else answered 504.
   */
  private void startPerTryTimer(UpstreamExchange exchange, int attempt,
      HttpClientRequest upstream, Endpoint endpoint) {
    if (attempt != exchange.attempt || exchange.perTryTimer >= 0) {
      return;
    }
    exchange.perTryTimer = vertx.setTimer(exchange.perTryTimeout, id -> {
      exchange.perTryTimer = -1;
      if (attempt != exchange.attempt) {
        return;
      }
      exchange.attempt++; // Gives this attempt up: its callbacks now see a newer number.
      TimeoutException cause = new TimeoutException(
          "per-try timeout " + exchange.perTryTimeout + " ms passed before the response head");
      upstream.reset(0x8, cause); // CANCEL on HTTP/2; HTTP/1.1 closes the connection
      UpstreamFailure failure = UpstreamFailure.RESPONSE_TIMEOUT;
      reportFailure(endpoint, failure);
      retryOrFail(exchange, endpoint, failure, cause);
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
    if (RetryRules.retriesFailure(exchange.routeRetry, exchange.policyRetry,
        exchange.request.method(), failure, cause) && exchange.takeRetry()) {
      retryLater(exchange, endpoint);
    } else {
      fail(exchange, failure, endpoint, cause);
    }
  }

  /** Retries on another endpoint (when there is one) after the policy's backoff. */
  private void retryLater(UpstreamExchange exchange, Endpoint tried) {
    Endpoint next = exchange.endpoints.nextExcept(tried);
    if (next == null) {
      next = exchange.endpoints.next();
    }
    if (next == null) {
      fail(exchange, UpstreamFailure.NO_ENDPOINTS, null,
          new IllegalStateException("no endpoint left"));
      return;
    }
    metrics.retried();
    long backoff = RetryRules.backoffMillis(exchange.routeRetry, exchange.policyRetry,
        exchange.retries);
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
    ProxyHandler.respondFailure(metrics, request, failure, failure.label() + " (" + endpoint + ")");
  }

  private static String uri(HttpServerRequest request, String path) {
    String query = request.query();
    return query == null ? path : path + "?" + query;
  }

  /** The effective request timeout of {@code group}: the rule's, else the policy's; 0 for none. */
  static long requestTimeoutMillis(BackendGroup group) {
    if (group.timeouts().requestMillis() > 0) {
      return group.timeouts().requestMillis();
    }
    BackendResilience.Timeouts timeouts = group.traffic().resilience().timeouts();
    return timeouts == null ? 0 : timeouts.requestMillis();
  }
}
