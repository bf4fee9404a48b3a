package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.Listener;
import io.portico.ir.TlsCertificate;
import io.portico.ir.Filters;
import io.portico.ir.HttpPort;
import io.portico.ir.Route;
import io.portico.ir.RoutingTable;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.tls.SniKeyManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;


/**
 * Handles one request on one listener port, in the order it travels: the request's own
 * validity, route selection ({@link RouteSelector}), the answers a rule gives by itself (CORS
 * preflight, RequestRedirect), the backend and endpoint pick ({@link EndpointPicker}), then the
 * {@link Forwarder} (or the {@link UpgradeForwarder} for a protocol switch) with the rule's
 * mirrors sent alongside. Every answer Portico writes itself goes through the
 * {@link Responder}. Confined to its verticle's event loop.
 */
final class ProxyHandler {

  private final Vertx vertx;
  private final Forwarder forwarder;
  private final UpgradeForwarder upgradeForwarder;
  private final RequestMirrors mirrors;
  private final Responder responder;
  private final LoadBalancerState loadBalancer = new LoadBalancerState();
  private final EndpointPicker picker;
  private final HealthRegistry health;
  private RoutingTable table = RoutingTable.EMPTY;
  private EndpointsIndex endpoints = EndpointsIndex.EMPTY;

  ProxyHandler(Vertx vertx, Forwarder forwarder, UpgradeForwarder upgradeForwarder,
      RequestMirrors mirrors, Responder responder) {
    this.vertx = vertx;
    this.forwarder = forwarder;
    this.mirrors = mirrors;
    this.upgradeForwarder = upgradeForwarder;
    this.responder = responder;
    this.health = HealthRegistry.of(vertx);
    this.picker = new EndpointPicker(loadBalancer, health);
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
    picker.use(endpoints);
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
    RequestHead.Refusal refusal = RequestHead.check(request);
    if (refusal != null) {
      responder.refuse(request, refusal.failure, refusal.detail);
      return;
    }
    HostAndPort authority = RequestHead.authority(request);
    if (authority == null || authority.host().isEmpty()) {
      RequestHead.Refusal invalid = RequestHead.authorityRefusal(request);
      responder.refuse(request, invalid.failure, invalid.detail);
      return;
    }

    // Route selection.
    HttpPort port = table.httpPort(address, listenerPort);
    PathNormalizer.Result canonical = PathNormalizer.canonicalize(request.uri());
    if (canonical.outcome() != PathNormalizer.Result.Outcome.SERVE) {
      responder.nonCanonicalPath(request, canonical);
      return;
    }
    String path = canonical.path();
    String host = authority.host();
    if (port == null || !path.startsWith("/")) {
      responder.fail(request, UpstreamFailure.NO_ROUTE, "no route");
      return;
    }
    Listener listener = port.findListener(host);
    if (request.isSSL() && isMisdirected(port, listener, request, host)) {
      responder.fail(request, UpstreamFailure.MISDIRECTED,
          "the TLS server name does not match the Host header");
      return;
    }
    Route route = listener == null ? null : RouteSelector.select(listener, request, host, path);
    if (route == null) {
      responder.fail(request, UpstreamFailure.NO_ROUTE, "no route");
      return;
    }
    if (route.unenforced() != null) {
      // Nothing fails open: a security policy Portico cannot enforce keeps the backend away.
      responder.unenforcedPolicy(request, route.unenforced());
      return;
    }

    // Answers the rule gives by itself.
    Filters ruleFilters = route.filters();
    if (ruleFilters.cors() != null && CorsPolicy.isPreflight(request)) {
      responder.preflight(request, ruleFilters.cors());
      return;
    }
    if (ruleFilters.redirect() != null) {
      // A redirect answers by itself; the rule's backendRefs are not used.
      responder.redirect(request, route, Filters.NONE, ruleFilters.redirect(), path, authority,
          listenerPort);
      return;
    }

    // Backend and endpoint pick.
    EndpointPicker.Pick pick = picker.pick(request, route.backends(),
        listener.backendClientCertificate());
    if (pick.failure() != null) {
      responder.fail(request, pick.failure(), pick.detail());
      return;
    }
    WeightedBackend backend = pick.backend();
    if (pick.target() == null) {
      responder.redirect(request, route, backend.filters(), backend.filters().redirect(), path,
          authority, listenerPort);
      return;
    }

    // Forward.
    UpstreamTarget target = pick.target();
    ProxyRequest call = ProxyRequest.of(request, route, backend, path, authority);
    if (UpgradeForwarder.isUpgrade(request)) {
      if (target.tls() != null) {
        responder.fail(request, UpstreamFailure.UPSTREAM_TLS,
            "upgrades to a backend with a BackendTLSPolicy are not supported yet");
      } else {
        upgradeForwarder.forward(call, target.endpoint(), health);
      }
      return;
    }
    ReplayBody bodyCopy = Forwarder.bodyCopy(call);
    mirrors.send(call, loadBalancer, endpoints, health, bodyCopy);
    limitRequestTime(request, call.plan().requestTimeoutMillis());
    forwarder.forward(call, target, bodyCopy);
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
        responder.fail(request, UpstreamFailure.REQUEST_TIMEOUT,
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
   *
   * @param hostListener the listener the request's Host selects
   * @param host the request's host (an absolute-form target's, else the Host header's)
   */
  private static boolean isMisdirected(HttpPort port, Listener hostListener,
      HttpServerRequest request, String host) {
    String serverName = SniKeyManager.requestedServerName(request.sslSession());
    if (serverName == null || serverName.equalsIgnoreCase(host)) {
      return false;
    }
    return port.findListener(serverName) != hostListener;
  }
}
