package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.ir.BackendGroup;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.Listener;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.ir.Filters;
import io.portico.ir.HttpPort;
import io.portico.ir.Route;
import io.portico.ir.RoutingTable;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.lb.EndpointChooser;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.lb.RoundRobin;
import io.portico.proxy.tls.SniKeyManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

import java.util.List;

/**
 * Handles one request on one listener port: selects the route, picks a backend by weight (or by
 * its session or affinity cookie) and an endpoint by the rule's load balancing (see
 * {@link EndpointChooser}), and hands the request to the {@link Forwarder}, or answers the
 * Gateway API's error status (404 no route, 500 invalid backend, 503 no ready endpoint), or the
 * redirect of a RequestRedirect filter (see {@link RequestFilters}). Confined to its verticle's
 * event loop.
 */
final class ProxyHandler {

  private final Vertx vertx;
  private final Forwarder forwarder;
  private final UpgradeForwarder upgradeForwarder;
  private final RequestMirrors mirrors;
  private final ProxyMetrics metrics;
  private final LoadBalancerState loadBalancer = new LoadBalancerState();
  private final EndpointChooser chooser = new EndpointChooser(loadBalancer);
  private final HealthRegistry health;
  private RoutingTable table = RoutingTable.EMPTY;
  private EndpointsIndex endpoints = EndpointsIndex.EMPTY;

  ProxyHandler(Vertx vertx, Forwarder forwarder, UpgradeForwarder upgradeForwarder,
      RequestMirrors mirrors, ProxyMetrics metrics) {
    this.vertx = vertx;
    this.forwarder = forwarder;
    this.mirrors = mirrors;
    this.upgradeForwarder = upgradeForwarder;
    this.metrics = metrics;
    this.health = HealthRegistry.of(vertx);
    // Created in its verticle's start: client-caused failures on this event loop are counted.
    ClientFailures.install(vertx.getOrCreateContext(), metrics);
  }

  /** Swaps the table; requests already past route selection finish on the old one. */
  void useTable(RoutingTable table) {
    this.table = table;
    loadBalancer.resetGroups();
    forwarder.retainPools(table);
    retainTlsClients();
  }

  void useEndpoints(EndpointsIndex endpoints) {
    this.endpoints = endpoints;
    loadBalancer.useEndpoints(endpoints);
    retainTlsClients();
  }

  /** Shuts down the upstream TLS clients neither the table nor the endpoints still use. */
  private void retainTlsClients() {
    java.util.Set<TlsCertificate> certificates = new java.util.HashSet<>();
    for (HttpPort port : table.httpPorts()) {
      for (Listener listener : port.listeners()) {
        if (listener.backendClientCertificate() != null) {
          certificates.add(listener.backendClientCertificate());
        }
      }
    }
    forwarder.retainTls(endpoints.upstreamTls().values(), certificates);
  }

  /**
   * @param address the HttpPort address the request arrived on (empty: the shared bind address)
   * @param listenerPort the Gateway listener port (not the bound port)
   */
  void handle(HttpServerRequest request, String address, int listenerPort) {
    request.pause();
    HostAndPort authority = request.authority();
    if (authority == null || authority.host().isEmpty()) {
      respondFailure(metrics, request, UpstreamFailure.BAD_REQUEST, "missing Host header");
      return;
    }
    // RFC 9112 3.2: two Host headers are a 400; proxies that pick one enable cache poisoning.
    if (request.version() != HttpVersion.HTTP_2 && request.headers().getAll(HttpHeaders.HOST).size() > 1) {
      respondFailure(metrics, request, UpstreamFailure.BAD_REQUEST, "more than one Host header");
      return;
    }
    HttpPort port = table.httpPort(address, listenerPort);
    PathNormalizer.Result canonical = PathNormalizer.canonicalize(request.uri());
    if (canonical.answered(request, metrics)) {
      return;
    }
    String path = canonical.path();
    if (port == null || !path.startsWith("/")) {
      respondFailure(metrics, request, UpstreamFailure.NO_ROUTE, "no route");
      return;
    }
    if (request.isSSL() && isMisdirected(port, request, authority.host())) {
      respondFailure(metrics, request, UpstreamFailure.MISDIRECTED,
          "the TLS server name does not match the Host header");
      return;
    }
    Route route = RouteSelector.select(port, request, authority.host(), path);
    if (route == null) {
      respondFailure(metrics, request, UpstreamFailure.NO_ROUTE, "no route");
      return;
    }
    if (route.unenforced() != null) {
      UnenforcedPolicies.refuse(request, route.unenforced(), metrics);
      return;
    }
    if (route.filters().cors() != null && CorsPolicy.answerPreflight(request, route.filters().cors())) {
      return;
    }
    if (route.filters().redirect() != null) {
      // A redirect answers by itself; the rule's backendRefs are not used.
      RequestFilters.redirect(request, route, Filters.NONE, route.filters().redirect(), path,
          authority, listenerPort, metrics);
      return;
    }
    BackendGroup group = route.backends();
    // A valid session or affinity cookie keeps its endpoint even when the rule splits traffic by
    // weight; new sessions (none, or its endpoint gone) follow the weights.
    WeightedBackend backend = chooser.pinnedBackend(request, group,
        key -> health.candidates(key, endpoints.get(key)));
    if (backend == null) {
      backend = loadBalancer.group(group).next();
    }
    if (backend == null) {
      // Gateway API: a rule with no (or only weight-0) backendRefs answers 500.
      respondFailure(metrics, request, UpstreamFailure.INVALID_BACKEND, "no backend for " + group.name());
      return;
    }
    if (!backend.available()) {
      respondFailure(metrics, request, UpstreamFailure.INVALID_BACKEND, "invalid backend " + backend.name());
      return;
    }
    Filters backendFilters = backend.filters();
    if (backendFilters.redirect() != null) {
      RequestFilters.redirect(request, route, backendFilters, backendFilters.redirect(), path,
          authority, listenerPort, metrics);
      return;
    }
    // Health hook: the choice (and any retry) sees the healthy endpoints, or all in panic.
    List<Endpoint> candidates = health.candidates(backend.key(), endpoints.get(backend.key()));
    RoundRobin picker = loadBalancer.endpoints(backend.key(), candidates);
    Endpoint endpoint = chooser.choose(request, group, backend.key(), candidates);
    if (endpoint == null) {
      respondFailure(metrics, request, UpstreamFailure.NO_ENDPOINTS, "no ready endpoint for " + backend.key());
      return;
    }
    UpstreamTls tls = endpoints.tls(backend.key());
    if (tls != null && !tls.usable()) {
      respondFailure(metrics, request, UpstreamFailure.INVALID_BACKEND_TLS,
          "BackendTLSPolicy for " + backend.key() + " cannot be used: " + tls.invalid());
      return;
    }
    boolean upgrade = UpgradeForwarder.isUpgrade(request);
    if (tls != null && upgrade) {
      respondFailure(metrics, request, UpstreamFailure.UPSTREAM_TLS,
          "upgrades to a backend with a BackendTLSPolicy are not supported yet");
      return;
    }
    if (upgrade) {
      upgradeForwarder.forward(request, path, authority, endpoint, route, backendFilters,
          health);
      return;
    }
    mirrors.send(request, route, backendFilters, path, authority, loadBalancer, endpoints,
        health);
    limitRequestTime(request, Forwarder.requestTimeoutMillis(group));
    TlsCertificate clientCertificate = null;
    if (tls != null) {
      // The Gateway's backend client certificate; the listener is the one RouteSelector chose.
      Listener listener = port.findListener(authority.host());
      clientCertificate = listener == null ? null : listener.backendClientCertificate();
    }
    forwarder.forward(request, path, authority, endpoint, picker, endpoints.h2c(backend.key()),
        tls, clientCertificate, group, route, backendFilters);
  }

  /**
   * Gateway API {@code timeouts.request} (else the BackendTrafficPolicy's
   * {@code timeout.http.requestTimeout}): past it the client gets 504 if nothing was sent yet,
   * a reset otherwise; a late upstream answer is then dropped (see ResponseRelay).
   */
  private void limitRequestTime(HttpServerRequest request, long requestMillis) {
    if (requestMillis <= 0) {
      return;
    }
    HttpServerResponse response = request.response();
    long timer = vertx.setTimer(requestMillis, id -> {
      if (!response.ended() && !response.closed()) {
        respondFailure(metrics, request, UpstreamFailure.REQUEST_TIMEOUT,
            "request timeout " + requestMillis + " ms");
      }
    });
    response.endHandler(v -> vertx.cancelTimer(timer));
    response.closeHandler(v -> vertx.cancelTimer(timer));
  }

  /**
   * A request is misdirected when its Host belongs to another listener than the one its TLS
   * server name chose, whose certificate (and client validation) it was not meant to pass
   * (RFC 9110 section 15.5.20; Gateway API GatewayHTTPSListenerDetectMisdirectedRequests).
   */
  private static boolean isMisdirected(HttpPort port, HttpServerRequest request, String host) {
    String serverName = SniKeyManager.requestedServerName(request.sslSession());
    if (serverName == null || serverName.equalsIgnoreCase(host)) {
      return false;
    }
    return port.findListener(serverName) != port.findListener(host);
  }

  /**
   * Answers a request Portico could not forward with the failure's status and a one-line body
   * naming what failed; the label is also sent as {@code x-portico-failure} for debugging.
   */
  static void respondFailure(ProxyMetrics metrics, HttpServerRequest request,
      UpstreamFailure failure, String detail) {
    HttpServerResponse response = request.response();
    if (response.ended()) {
      // Already answered (e.g. the rule's request timeout, then the late upstream failure):
      // one request, one counted outcome.
      return;
    }
    metrics.failed(failure);
    if (response.headWritten() || response.closed()) {
      if (!response.closed()) {
        response.reset();
      }
      return;
    }
    request.resume();
    // An answer Portico generates must not pin a session (nor pass on an upstream's cookies).
    response.headers().remove(HttpHeaders.SET_COOKIE);
    response.setStatusCode(failure.status())
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .putHeader("x-portico-failure", failure.label())
        .end(detail + "\n");
  }
}
