package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.ir.Route;
import io.portico.ir.BackendGroup;
import io.portico.ir.RouteRetry;
import io.portico.ir.RouteTimeouts;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
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
 * closed is retried once, since the endpoint cannot have acted on it.
 */
final class Forwarder {

  private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);
  private static final String X_FORWARDED_FOR = "x-forwarded-for";
  private static final String X_FORWARDED_HOST = "x-forwarded-host";
  private static final String X_FORWARDED_PROTO = "x-forwarded-proto";

  private final Vertx vertx;
  private final HttpClient client;
  private final HttpClient h2cClient;
  private final UpstreamTlsClients tlsClients;
  private final ProxyOptions options;
  private final ProxyMetrics metrics;
  /** Passive health checking: told the outcome of every attempt. */
  private final HealthRegistry health;

  /**
   * @param client the HTTP/1.1 upstream client
   * @param h2cClient the client for backends that speak cleartext HTTP/2 (prior knowledge)
   * @param tlsClients the clients for backends a BackendTLSPolicy targets
   */
  Forwarder(Vertx vertx, HttpClient client, HttpClient h2cClient, UpstreamTlsClients tlsClients,
      ProxyOptions options, ProxyMetrics metrics) {
    this.vertx = vertx;
    this.client = client;
    this.h2cClient = h2cClient;
    this.tlsClients = tlsClients;
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
    // The rule's backendRequest limit replaces the proxy-wide upstream idle timeout.
    long upstreamTimeout = timeouts.backendRequestMillis() > 0
        ? timeouts.backendRequestMillis() : options.upstreamIdleTimeoutMillis();
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
    HttpClient upstreamClient = tls != null ? tlsClients.client(tls, clientCertificate) : h2c ? h2cClient : client;
    Exchange exchange = new Exchange(upstreamClient, tls == null ? null : tls.hostname(), request,
        uri, authority, upstreamAuthority, ruleFilters, backendFilters, endpoints,
        hasBody(request), upstreamTimeout, group.retry());
    exchange.group = group;
    attempt(exchange, endpoint);
  }

  /** Shuts down the TLS clients of settings no longer in use. */
  void retainTls(java.util.Collection<UpstreamTls> current,
      java.util.Collection<TlsCertificate> clientCertificates) {
    tlsClients.retain(current, clientCertificates);
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
    final RouteRetry retry;
    /** The rule: its load balancing and session persistence see each attempt and answer. */
    BackendGroup group;
    /** Retries the rule's retry policy still allows. */
    int retriesLeft;
    /** Whether the one free retry (another endpoint after a refused connection, or a stale
     * pooled connection) was used. */
    boolean freeRetryUsed;

    Exchange(HttpClient client, String serverName, HttpServerRequest request, String uri,
        HostAndPort authority,
        HostAndPort upstreamAuthority, Filters ruleFilters, Filters backendFilters,
        RoundRobin endpoints, boolean hasBody, long upstreamTimeout, RouteRetry retry) {
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
      this.retry = retry;
      // A streamed body cannot be sent twice.
      this.retriesLeft = hasBody ? 0 : retry.attempts();
    }

    /** Whether the rule's policy allows one more try; uses it up when it does. */
    boolean takeRetry() {
      if (retriesLeft <= 0 || request.response().headWritten() || request.response().ended()) {
        return false;
      }
      retriesLeft--;
      return true;
    }
  }

  private void attempt(Exchange exchange, Endpoint endpoint) {
    HttpServerRequest request = exchange.request;
    RequestOptions requestOptions = new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()))
        .setMethod(request.method())
        .setURI(exchange.uri)
        .setConnectTimeout(options.connectTimeoutMillis())
        .setIdleTimeout(exchange.upstreamTimeout);
    if (exchange.serverName != null) {
      // The peer's name: Vert.x sends it as SNI (the socket still goes to the endpoint).
      requestOptions.setHost(exchange.serverName).setPort(endpoint.port());
    }
    exchange.client.request(requestOptions).onComplete(ar -> {
      if (ar.failed()) {
        UpstreamFailure failure = UpstreamFailure.of(ar.cause());
        reportFailure(endpoint, failure);
        Endpoint other = !exchange.freeRetryUsed && failure.beforeConnect()
            ? exchange.endpoints.nextExcept(endpoint) : null;
        if (other != null) {
          exchange.freeRetryUsed = true;
          attempt(exchange, other);
        } else if (exchange.takeRetry()) {
          retryLater(exchange);
        } else {
          fail(request, failure, endpoint, ar.cause());
        }
        return;
      }
      HttpClientRequest upstream = ar.result();
      InFlightRequests.track(exchange.group, endpoint, upstream);
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
      response.onComplete(res -> {
        if (res.succeeded()) {
          HttpClientResponse answer = res.result();
          health.report(endpoint, Outcome.ofStatus(answer.statusCode()));
          if (exchange.retry.codes().contains(answer.statusCode()) && exchange.takeRetry()) {
            // Drain the refused answer so its connection can be reused, then try again.
            answer.exceptionHandler(e -> { });
            answer.end();
            retryLater(exchange);
            return;
          }
          // The affinity cookie or session names the endpoint that answers (maybe a retry's).
          AffinityResponse.answered(request, exchange.group, endpoint);
          relay(request, answer, endpoint, exchange.ruleFilters, exchange.backendFilters);
          return;
        }
        UpstreamFailure failure = UpstreamFailure.of(res.cause());
        reportFailure(endpoint, failure);
        // A pooled connection the endpoint had closed: it cannot have seen the request.
        boolean staleConnection = !exchange.freeRetryUsed && !exchange.hasBody
            && failure == UpstreamFailure.RESET && isIdempotent(request.method())
            && !request.response().headWritten();
        if (staleConnection) {
          exchange.freeRetryUsed = true;
          attempt(exchange, endpoint);
        } else if (failure != UpstreamFailure.CLIENT_GONE && exchange.takeRetry()) {
          retryLater(exchange);
        } else {
          fail(request, failure, endpoint, res.cause());
        }
      });
    });
  }

  /** Tells passive health checking about an attempt that got no answer. */
  private void reportFailure(Endpoint endpoint, UpstreamFailure failure) {
    if (failure != UpstreamFailure.CLIENT_GONE) {
      health.report(endpoint, Outcome.LOCAL_ORIGIN_FAILURE);
    }
  }

  /** Retries on the next endpoint after the rule's backoff. */
  private void retryLater(Exchange exchange) {
    metrics.retried();
    Endpoint next = exchange.endpoints.next();
    if (next == null) {
      fail(exchange.request, UpstreamFailure.NO_ENDPOINTS, null,
          new IllegalStateException("no endpoint left"));
      return;
    }
    if (exchange.retry.backoffMillis() <= 0) {
      attempt(exchange, next);
    } else {
      vertx.setTimer(exchange.retry.backoffMillis(), id -> attempt(exchange, next));
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

  private void relay(HttpServerRequest request, HttpClientResponse upstream, Endpoint endpoint,
      Filters ruleFilters, Filters backendFilters) {
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      // The client left, or the rule's request timeout already answered 504.
      upstream.exceptionHandler(e -> { }); // The reset below is ours: nothing to report.
      upstream.request().reset();
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
      response.end();
    });
    response.closeHandler(v -> upstream.request().reset());
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

  private static boolean isIdempotent(HttpMethod method) {
    return method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
        || method == HttpMethod.PUT || method == HttpMethod.DELETE || method == HttpMethod.TRACE;
  }
}
