package io.portico.proxy;

import io.portico.bus.StateSubscription;
import io.portico.bus.Versioned;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.HttpPort;
import io.portico.ir.RoutingTable;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.portico.ir.ClientValidation;
import io.portico.proxy.tls.ClientTrustManager;
import io.portico.proxy.tls.SniKeyManager;
import io.portico.proxy.tls.TlsEngines;
import io.portico.proxy.upstream.VertxUpstreamClient;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.TrustOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Serves the Gateway listener ports on one event loop. Deploy one instance per event loop: each
 * owns its servers (Vert.x shares a port between instances) and its own upstream client, so a
 * request and its upstream connection stay on one loop.
 *
 * <p>Tables and endpoints arrive over the event bus by reference; a newer version is swapped in
 * with one field assignment, an older or invalid one is ignored.
 */
public final class ProxyVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyVerticle.class);

  private final ProxyOptions options;
  private final PortClaims claims;
  private final Map<ListenAddress, HttpServer> servers = new HashMap<>();
  /** The kind each server of {@link #servers} claimed its socket as, once granted. */
  private final Map<ListenAddress, String> claimed = new HashMap<>();
  /**
   * The servers of {@link #servers} that serve a port shared with TLS listeners, by the domain
   * socket the stream proxy hands their connections to ({@link PortClaims#handoffAddress}).
   */
  private final Map<ListenAddress, SocketAddress> handoffs = new HashMap<>();
  /** The TLS state of every bound HTTPS port. */
  private final Map<ListenAddress, PortTls> tlsPorts = new HashMap<>();
  private ProxyHandler handler;
  private Responder responder;
  private ClientConnections clientConnections;
  private UpstreamClients upstreamClients;
  private Versioned<RoutingTable> table;
  private Versioned<EndpointsIndex> endpoints;

  public ProxyVerticle(ProxyOptions options, PortClaims claims) {
    this.options = Objects.requireNonNull(options, "options");
    this.claims = Objects.requireNonNull(claims, "claims");
  }

  @Override
  public Future<?> start() {
    var client = vertx.httpClientBuilder()
        .with(options.upstreamClientOptions())
        .with(new PoolOptions().setHttp1MaxSize(options.maxConnectionsPerEndpoint()))
        .build();
    ProxyMetrics metrics = ProxyMetrics.create(BackendRegistries.getDefaultNow());
    var h2cClient = vertx.httpClientBuilder()
        .with(options.upstreamClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2)
            .setHttp2ClearTextUpgrade(false))
        .with(new PoolOptions().setHttp2MaxSize(2))
        .withConnectHandler(UpstreamConnectionSetup::connected)
        .build();
    // Pool limits of BackendTrafficPolicies are shared out over the proxy verticles.
    int loops = context.getInstanceCount();
    responder = new Responder(metrics);
    // Cleartext HTTP/1.1 endpoints get Portico's own client; Vert.x's serves named hosts.
    upstreamClients = new UpstreamClients((ContextInternal) context, options, client,
        new VertxUpstreamClient(h2cClient, null, 0), loops);
    clientConnections = new ClientConnections(vertx, options.client(), metrics, responder);
    // Client-caused failures on this event loop are counted, not logged with stack traces.
    ClientFailures.install(context, metrics);
    handler = new ProxyHandler(vertx, new Forwarder(vertx,
        upstreamClients,
        new UpstreamTlsClients(vertx, options, loops), options, metrics, responder),
        new UpgradeForwarder(vertx.createNetClient(new NetClientOptions()
            .setConnectTimeout(options.connectTimeoutMillis()).setTcpNoDelay(true)), metrics,
            responder),
        new RequestMirrors(client, h2cClient, options, metrics), responder);
    return StateSubscription.subscribe(vertx, this::applyTable, this::applyEndpoints);
  }

  @Override
  public Future<?> stop() {
    clientConnections.stop();
    upstreamClients.close();
    List<Future<Void>> closing = new ArrayList<>();
    servers.forEach((key, server) -> {
      closing.add(server.shutdown(5, TimeUnit.SECONDS));
      release(key);
    });
    servers.clear();
    return Future.join(closing);
  }

  private void applyEndpoints(Versioned<EndpointsIndex> update) {
    if (update.newerThan(endpoints)) {
      endpoints = update;
      handler.useEndpoints(update.value());
    }
  }

  private Future<Void> applyTable(Versioned<RoutingTable> update) {
    if (!update.newerThan(table)) {
      return Future.succeededFuture();
    }
    List<String> problems = update.value().validate();
    if (!problems.isEmpty()) {
      LOG.error("routing table version {} refused, keeping version {}: {}", update.version(),
          table == null ? 0 : table.version(), problems);
      return Future.succeededFuture();
    }
    table = update;
    handler.useTable(update.value());
    return reconcileServers(update.value());
  }

  private void release(ListenAddress key) {
    String kind = claimed.remove(key);
    SocketAddress handoff = handoffs.remove(key);
    if (kind != null && handoff != null) {
      claims.release(handoff.path(), -1, kind);
    } else if (kind != null) {
      claims.release(options.bindHost(key.address()), options.bindPort(key.port()), kind);
    }
  }


  /** Where one HttpPort is served: its address (empty for the shared one) and listener port. */
  private record ListenAddress(String address, int port) {
  }

  /**
   * What an HTTPS server was bound with. Certificates and CAs change in place; whether client
   * certificates are asked for is a server option, so changing that means binding anew.
   */
  private record PortTls(SniKeyManager keyManager, ClientTrustManager trustManager) {

    ClientAuth clientAuth() {
      if (trustManager == null) {
        return ClientAuth.NONE;
      }
      return trustManager.insecureFallback() ? ClientAuth.REQUEST : ClientAuth.REQUIRED;
    }
  }

  private static ClientAuth clientAuth(HttpPort port) {
    ClientValidation validation = port.clientValidation();
    if (!port.tls() || validation == null) {
      return ClientAuth.NONE;
    }
    return validation.allowInsecureFallback() ? ClientAuth.REQUEST : ClientAuth.REQUIRED;
  }

  /** Binds the ports the table needs and releases the ones it no longer has. */
  private Future<Void> reconcileServers(RoutingTable current) {
    Set<ListenAddress> wanted = new HashSet<>();
    List<Future<?>> pending = new ArrayList<>();
    for (HttpPort port : current.httpPorts()) {
      ListenAddress key = new ListenAddress(port.address(), port.port());
      wanted.add(key);
      PortTls tls = tlsPorts.get(key);
      HttpServer existing = servers.get(key);
      boolean handoff = current.sharedWithTls(port);
      if (existing == null) {
        pending.add(bind(key, port, handoff));
      } else if ((tls != null) != port.tls() || tls != null && tls.clientAuth() != clientAuth(port)
          || handoff != handoffs.containsKey(key)) {
        // HTTP <-> HTTPS, client certificates asked for or not, or TLS listeners joining or
        // leaving the port: a server option or another socket, bind anew.
        servers.remove(key);
        tlsPorts.remove(key);
        release(key);
        existing.close();
        pending.add(bind(key, port, handoff));
      } else if (tls != null) {
        tls.keyManager().use(port);
        if (tls.trustManager() != null) {
          tls.trustManager().use(port.clientValidation());
        }
      }
    }
    for (ListenAddress key : new ArrayList<>(servers.keySet())) {
      if (!wanted.contains(key)) {
        HttpServer server = servers.remove(key);
        tlsPorts.remove(key);
        release(key);
        server.shutdown(30, TimeUnit.SECONDS);
        LOG.info("stopped serving listener port {} {}", key.port(), key.address());
      }
    }
    return Future.join(pending).mapEmpty();
  }

  /**
   * @param handoff whether TLS listeners share the port: the server then listens on the port's
   *     handoff socket, with the PROXY protocol the stream proxy speaks there
   */
  private Future<?> bind(ListenAddress key, HttpPort port, boolean handoff) {
    int bindPort = options.bindPort(key.port());
    String host = options.bindHost(key.address());
    HttpServerOptions serverOptions = new HttpServerOptions()
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        // WebSocket extensions (permessage-deflate) are agreed between the client and the
        // backend: upgrades become a raw tunnel (see UpgradeForwarder). Turned off, Vert.x
        // leaves its extension handler out of every connection's pipeline, where it would
        // inspect each request and response for an upgrade it never serves.
        .setPerMessageWebSocketCompressionSupported(false)
        .setPerFrameWebSocketCompressionSupported(false)
        // Every answer is written from the connection's own event loop (one verticle, its
        // clients and timers, per loop), so responses go straight to the channel instead of
        // through a cross-thread message queue.
        .setStrictThreadMode(true)
        // Request bodies relayed upstream in reads as large as the upstream responses' chunks.
        .setMaxChunkSize(ProxyOptions.UPSTREAM_MAX_CHUNK_BYTES)
        .setHandle100ContinueAutomatically(true)
        .setSslHandshakeTimeout(options.client().tlsHandshakeTimeoutMillis())
        .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
    if (port.tls()) {
      // The backstop for connections not watched yet (see ClientConnections); a cleartext
      // connection has its FirstHeadDeadline (see ProxyTransport) instead.
      serverOptions.setReadIdleTimeout((int) Math.min(Integer.MAX_VALUE,
              options.client().requestHeadersTimeoutMillis()))
          .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
      // Listeners on one port share a protocol (the translator reports ProtocolConflict
      // otherwise), so the whole port is HTTPS; certificates are picked per handshake.
      SniKeyManager keyManager = new SniKeyManager();
      keyManager.use(port);
      ClientValidation validation = port.clientValidation();
      ClientTrustManager trustManager = validation == null ? null : new ClientTrustManager(validation);
      PortTls tls = new PortTls(keyManager, trustManager);
      tlsPorts.put(key, tls);
      serverOptions.setSsl(true).setUseAlpn(true)
          .setSslEngineOptions(TlsEngines.engine())
          .setEnabledSecureTransportProtocols(TlsEngines.PROTOCOLS)
          .setKeyCertOptions(KeyCertOptions.wrap(keyManager))
          .setClientAuth(tls.clientAuth());
      if (trustManager != null) {
        serverOptions.setTrustOptions(TrustOptions.wrap(trustManager));
      }
    }
    SocketAddress address = SocketAddress.inetSocketAddress(bindPort, host);
    if (handoff) {
      address = claims.handoffAddress(host, bindPort);
      serverOptions.setUseProxyProtocol(true);
      handoffs.put(key, address);
    }
    SocketAddress listenAddress = address;
    HttpServer server = vertx.createHttpServer(serverOptions);
    server.requestHandler(request -> handler.handle(request, key.address(), key.port()));
    // What Netty's decoder refused (bad request line, header syntax, Transfer-Encoding without
    // a final chunked, conflicting lengths, too long): answered with Connection: close.
    server.invalidRequestHandler(responder::invalidHead);
    server.connectionHandler(clientConnections.acceptor(key.address() + ":" + key.port()));
    servers.put(key, server);
    // Another kind of server (TCP, or HTTPS for HTTP) may still hold the port for a moment.
    String kind = port.tls() ? "HTTPS (client certificates " + clientAuth(port) + ")" : "HTTP";
    Future<?> listening = claims.claim(vertx, handoff ? address.path() : host,
            handoff ? -1 : bindPort, kind, () -> servers.get(key) == server)
        .compose(granted -> {
          if (!granted) {
            return Future.succeededFuture(); // A newer table no longer serves the port.
          }
          claimed.put(key, kind);
          return server.listen(listenAddress)
              .onSuccess(s -> LOG.debug("serving listener port {} on {}:{}", key.port(), host,
                  s.actualPort()));
        })
        .onFailure(e -> {
          if (servers.remove(key, server)) {
            tlsPorts.remove(key);
            release(key);
          }
          LOG.error("cannot serve listener port {} on {}:{}: {}", key.port(), host, bindPort,
              e.getMessage());
        });
    // A Gateway's own address that cannot be bound disables that Gateway only; the shared
    // address failing (port in use) stops start-up with the error, which is what a user needs.
    return key.address().isEmpty() ? listening : listening.otherwiseEmpty();
  }
}
