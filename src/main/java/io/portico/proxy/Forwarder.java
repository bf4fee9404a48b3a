package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.BackendResilience;
import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.Route;
import io.portico.ir.BackendGroup;
import io.portico.ir.RouteRetry;
import io.portico.ir.RouteTimeouts;
import io.portico.ir.RoutingTable;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.ir.VirtualHost;
import io.portico.proxy.lb.AffinityResponse;
import io.portico.proxy.lb.InFlightRequests;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * Streams one request to an endpoint and its response back, both ways with back-pressure.
 *
 * <p>The Host header is preserved, hop-by-hop headers are dropped in both directions, and
 * X-Forwarded-For / -Host are appended and X-Forwarded-Proto set. The route's filters (see
 * {@link RequestFilters}) may rewrite the URI and Host sent upstream (X-Forwarded-Host keeps the
 * client's) and change request headers after the hop-by-hop ones are dropped and before the
 * X-Forwarded ones are added, and response headers before they are relayed.
 *
 * <p>A request that never reached its endpoint (connection refused or timed out) is tried once
 * more on another endpoint; a body-less idempotent request whose pooled connection was found
 * closed is retried once, since the endpoint cannot have acted on it. Beyond these free tries,
 * the rule's retry policy (HTTPRoute {@code retry}, else a BackendTrafficPolicy's) decides, see
 * {@link RetryRules}; a BackendTrafficPolicy's circuit breaker bounds requests, waits for a
 * connection and retries in flight per rule (see {@link CircuitBreakers}) and the rule's
 * connections (see {@link RuleConnections}), its {@code retry.perRetry.timeout} bounds each
 * attempt until its response head, and its connection pool settings pick the upstream client
 * (see {@link UpstreamClients}).
 */
final class Forwarder {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
  private static final String X_FORWARDED_FOR = "x-forwarded-for";
  private static final String X_FORWARDED_HOST = "x-forwarded-host";
  private static final String X_FORWARDED_PROTO = "x-forwarded-proto";

  private final Vertx vertx;
  private final UpstreamClients clients;
  private final UpstreamTlsClients tlsClients;
  private final CircuitBreakers breakers;
  /** This verticle's part of circuitBreaker.maxConnections. */
  private final RuleConnections ruleConnections;
  /** The connection pools the current table uses, for the TLS clients' retain. */
  private Set<ConnectionPool> pools = Set.of();
  /** The rules with a circuit breaker in the current table, for the TLS clients' retain. */
  private Set<String> limitedRules = Set.of();
  private final ProxyOptions options;
  private final ProxyMetrics metrics;
  /** Passive health checking: told the outcome of every attempt. */
  private final HealthRegistry health;

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
    this.options = options;
    this.metrics = metrics;
    this.health = HealthRegistry.of(vertx);
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
    Exchange exchange = new Exchange(upstreamClient, tls == null ? null : tls.hostname(),
        request, uri, authority, upstreamAuthority, ruleFilters, backendFilters, endpoints,
        hasBody(request), upstreamTimeout, connectTimeout, routeRetry, policyRetry, limits,
        counters);
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

  /** Shuts down the TLS clients of settings no longer in use. */
  void retainTls(java.util.Collection<UpstreamTls> current,
      java.util.Collection<TlsCertificate> clientCertificates) {
    tlsClients.retain(current, clientCertificates, pools, limitedRules);
  }

  /**
   * Shuts down the clients of connection pool settings {@code table} no longer uses, and
   * forgets the circuit breaker counts of rules no longer in it that have nothing in flight.
   */
  void retainPools(RoutingTable table) {
    Set<ConnectionPool> current = new HashSet<>();
    Set<UpstreamClients.Key> keys = new HashSet<>();
    Set<String> rules = new HashSet<>();
    Set<String> limited = new HashSet<>();
    for (HttpPort port : table.httpPorts()) {
      for (Listener listener : port.listeners()) {
        for (VirtualHost host : listener.virtualHosts()) {
          for (Route route : host.routes()) {
            BackendGroup group = route.backends();
            rules.add(group.name());
            BackendResilience resilience = group.traffic().resilience();
            ConnectionPool pool = resilience.connectionPool();
            if (pool != null) {
              current.add(pool);
            }
            if (resilience.circuitBreaker() != null) {
              limited.add(group.name());
            }
            if (pool != null || resilience.circuitBreaker() != null) {
              keys.add(new UpstreamClients.Key(pool,
                  resilience.circuitBreaker() != null ? group.name() : null));
            }
          }
        }
      }
    }
    pools = current;
    limitedRules = limited;
    clients.retain(keys);
    ruleConnections.retain(rules);
    breakers.retain(rules);
  }

  /** One request on its way upstream, across its attempts. Confined to the event loop. */
  private static final class Exchange {
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

    Exchange(HttpClient client, String serverName, HttpServerRequest request, String uri,
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

  private void attempt(Exchange exchange, Endpoint endpoint) {
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
  private void send(Exchange exchange, Endpoint endpoint, int attempt,
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
        UpstreamFailure failure = UpstreamFailure.of(ar.cause());
        reportFailure(endpoint, failure);
        Endpoint other = !exchange.connectRetryUsed && failure.beforeConnect()
            && !request.response().closed() ? exchange.endpoints.nextExcept(endpoint) : null;
        if (other != null) {
          exchange.connectRetryUsed = true;
          attempt(exchange, other);
        } else if (RetryRules.retriesFailure(exchange.routeRetry, exchange.policyRetry,
            request.method(), failure, ar.cause()) && exchange.takeRetry()) {
          retryLater(exchange, endpoint);
        } else {
          fail(exchange, failure, endpoint, ar.cause());
        }
        return;
      }
      HttpClientRequest upstream = ar.result();
      InFlightRequests.track(exchange.group, endpoint, upstream);
      if (exchange.maxRequestsPerConnection > 0) {
        clients.countRequest(upstream.connection(), exchange.maxRequestsPerConnection);
      }
      prepareHeaders(request, upstream, exchange.authority, exchange.upstreamAuthority,
          exchange.ruleFilters, exchange.backendFilters);
      Future<HttpClientResponse> response;
      if (exchange.hasBody) {
        String length = request.headers().get(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
          upstream.setChunked(upstream.version() != HttpVersion.HTTP_2);
        } else {
          upstream.putHeader(HttpHeaders.CONTENT_LENGTH, length);
        }
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
      response.onComplete(res -> {
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
          relay(exchange, answer, endpoint);
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
        } else if (RetryRules.retriesFailure(exchange.routeRetry, exchange.policyRetry,
            request.method(), failure, res.cause()) && exchange.takeRetry()) {
          retryLater(exchange, endpoint);
        } else {
          fail(exchange, failure, endpoint, res.cause());
        }
      });
    });
  }

  /**
   * Arms the per-try timeout of attempt number {@code attempt}: unless its response head has
   * arrived by then, the attempt is reset and retried when the retry policy allows it (as a
   * reset: triggers reset, 5xx and gateway-error, as Envoy), else answered 504.
   */
  private void startPerTryTimer(Exchange exchange, int attempt, HttpClientRequest upstream,
      Endpoint endpoint) {
    if (attempt != exchange.attempt || exchange.perTryTimer >= 0) {
      return;
    }
    exchange.perTryTimer = vertx.setTimer(exchange.perTryTimeout, id -> {
      exchange.perTryTimer = -1;
      if (attempt != exchange.attempt) {
        return;
      }
      exchange.attempt++; // Gives this attempt up: its callbacks now see a newer number.
      java.util.concurrent.TimeoutException cause = new java.util.concurrent.TimeoutException(
          "per-try timeout " + exchange.perTryTimeout + " ms passed before the response head");
      upstream.reset(0x8, cause); // CANCEL on HTTP/2; HTTP/1.1 closes the connection
      UpstreamFailure failure = UpstreamFailure.RESPONSE_TIMEOUT;
      reportFailure(endpoint, failure);
      if (RetryRules.retriesFailure(exchange.routeRetry, exchange.policyRetry,
          exchange.request.method(), failure, cause) && exchange.takeRetry()) {
        retryLater(exchange, endpoint);
      } else {
        fail(exchange, failure, endpoint, cause);
      }
    });
  }

  private void cancelPerTryTimer(Exchange exchange) {
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

  /** Retries on another endpoint (when there is one) after the policy's backoff. */
  private void retryLater(Exchange exchange, Endpoint tried) {
    metrics.retried();
    Endpoint next = exchange.endpoints.nextExcept(tried);
    if (next == null) {
      next = exchange.endpoints.next();
    }
    if (next == null) {
      fail(exchange, UpstreamFailure.NO_ENDPOINTS, null,
          new IllegalStateException("no endpoint left"));
      return;
    }
    long backoff = RetryRules.backoffMillis(exchange.routeRetry, exchange.policyRetry,
        exchange.retries);
    Endpoint chosen = next;
    if (backoff <= 0) {
      attempt(exchange, chosen);
    } else {
      vertx.setTimer(backoff, id -> attempt(exchange, chosen));
    }
  }

  private static void prepareHeaders(HttpServerRequest request, HttpClientRequest upstream,
      HostAndPort authority, HostAndPort upstreamAuthority, Filters ruleFilters,
      Filters backendFilters) {
    MultiMap headers = upstream.headers();
    HopByHopHeaders.copy(request.headers(), headers, "host");
    // Portico answered any 100-continue itself; the upstream gets the body straight away.
    headers.remove(HttpHeaders.EXPECT);
    // TE is hop-by-hop, but "trailers" must reach gRPC servers (RFC 9113 8.2.2).
    String te = request.headers().get("te");
    if (te != null && te.toLowerCase(java.util.Locale.ROOT).contains("trailers")) {
      headers.set("te", "trailers");
    }
    upstream.authority(upstreamAuthority);
    RequestFilters.modifyRequestHeaders(headers, ruleFilters, backendFilters);
    addForwardedHeaders(request, headers, authority);
  }

  /** Appends X-Forwarded-For and -Host, and sets X-Forwarded-Proto. */
  static void addForwardedHeaders(HttpServerRequest request, MultiMap headers,
      HostAndPort authority) {
    String client = request.remoteAddress() == null ? null : request.remoteAddress().hostAddress();
    if (client != null) {
      append(headers, X_FORWARDED_FOR, client);
    }
    append(headers, X_FORWARDED_HOST, authority.toString());
    headers.set(X_FORWARDED_PROTO, request.isSSL() ? "https" : "http");
  }

  private static void append(MultiMap headers, String name, String value) {
    String existing = headers.get(name);
    headers.set(name, existing == null ? value : existing + ", " + value);
  }

  private void relay(Exchange exchange, HttpClientResponse upstream, Endpoint endpoint) {
    HttpServerRequest request = exchange.request;
    Filters ruleFilters = exchange.ruleFilters;
    Filters backendFilters = exchange.backendFilters;
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      // The client left, or the rule's request timeout already answered 504.
      upstream.exceptionHandler(e -> { }); // The reset below is ours: nothing to report.
      upstream.request().reset();
      exchange.finish();
      return;
    }
    metrics.forwarded(upstream.statusCode());
    response.setStatusCode(upstream.statusCode());
    if (request.version() != HttpVersion.HTTP_2 && upstream.statusMessage() != null) {
      response.setStatusMessage(upstream.statusMessage());
    }
    HopByHopHeaders.copy(upstream.headers(), response.headers(), null);
    RequestFilters.modifyResponseHeaders(response.headers(), ruleFilters, backendFilters);
    if (ruleFilters.cors() != null) {
      CorsPolicy.addResponseHeaders(request, response.headers(), ruleFilters.cors());
    }
    if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH) && request.version() != HttpVersion.HTTP_2
        && mayHaveBody(request.method(), upstream.statusCode())) {
      response.setChunked(true);
    }
    upstream.exceptionHandler(e -> {
      LOG.debug("upstream {} failed mid-response: {}", endpoint, e.toString());
      exchange.finish();
      response.reset();
    });
    // Piped by hand rather than with send(): trailers (gRPC status, chunked trailers) must be
    // copied after the body and before the end.
    upstream.handler(chunk -> {
      response.write(chunk);
      if (response.writeQueueFull()) {
        upstream.pause();
        response.drainHandler(v -> upstream.resume());
      }
    });
    upstream.endHandler(v -> {
      if (!upstream.trailers().isEmpty()) {
        if (request.version() != HttpVersion.HTTP_2 && !response.isChunked()) {
          // HTTP/1.1 carries trailers only in a chunked body.
          if (!response.headWritten()) {
            response.headers().remove(HttpHeaders.CONTENT_LENGTH);
            response.setChunked(true);
          }
        }
        if (response.isChunked() || request.version() == HttpVersion.HTTP_2) {
          HopByHopHeaders.copy(upstream.trailers(), response.trailers(), null);
        }
      }
      exchange.finish();
      response.end();
    });
    response.closeHandler(v -> {
      exchange.finish();
      upstream.request().reset();
    });
  }

  private void fail(Exchange exchange, UpstreamFailure failure, Endpoint endpoint,
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

  /** HTTP/1.x messages have a body when they say so; HTTP/2 ones unless the stream has ended. */
  static boolean hasBody(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      return !request.isEnded();
    }
    MultiMap headers = request.headers();
    String length = headers.get(HttpHeaders.CONTENT_LENGTH);
    return length != null && !length.equals("0") || headers.contains(HttpHeaders.TRANSFER_ENCODING);
  }

  private static boolean mayHaveBody(HttpMethod method, int status) {
    return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
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
