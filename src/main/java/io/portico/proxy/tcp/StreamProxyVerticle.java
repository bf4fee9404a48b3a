package io.portico.proxy.tcp;

import io.portico.bus.StateSubscription;
import io.portico.bus.Versioned;
import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.BackendGroup;
import io.portico.ir.BackendResilience;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.ir.StreamProtocol;
import io.portico.ir.StreamRoute;
import io.portico.ir.UpstreamTls;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.CircuitBreakers;
import io.portico.proxy.PortClaims;
import io.portico.proxy.SocketSplice;
import io.vertx.core.net.SocketAddress;
import io.portico.proxy.ProxyOptions;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.lb.RoundRobin;
import io.portico.proxy.tls.TlsEngines;
import io.portico.proxy.tls.UpstreamTrustManager;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.TrustOptions;
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
 * Serves the Gateway listener ports of protocol TLS and TCP on one event loop: reads the SNI
 * name of a TLS connection's ClientHello, picks the listener and route (TCP: the listener's
 * oldest route), a backend by weight and an endpoint round robin, and splices the bytes both
 * ways with back-pressure: untouched for a Passthrough listener, decrypted for a Terminate
 * listener ({@link TlsTerminator}). A connection nothing takes
 * is closed and counted ({@link StreamMetrics}).
 *
 * <p>Deployed one instance per event loop next to the HTTP proxy verticles, it receives the same
 * routing table and endpoints over the event bus and serves only the table's
 * {@link RoutingTable#streamPorts()}; a port is either HTTP or stream (the translator reports a
 * listener that would mix them), except that HTTPS listeners may share a TLS port: this verticle
 * then owns the port and hands the connections whose SNI name picks an HTTPS listener to the HTTP
 * proxy ({@link HttpsHandoff}).
 */
public final class StreamProxyVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StreamProxyVerticle.class);

  /**
   * The most a client may send before its ClientHello is complete. Real ClientHellos are under
   * 2 KiB (a few KiB with post-quantum key shares); 16 KiB is one full TLS record.
   */
  static final int MAX_CLIENT_HELLO_BYTES = 16 * 1024 + 5;
  /** How long a TLS client may take to send its ClientHello (Envoy's listener filter timeout). */
  static final long CLIENT_HELLO_TIMEOUT_MILLIS = 15_000;
  /** An idle connection is closed after this long (Envoy's TCP proxy default: 1 hour). */
  static final int IDLE_TIMEOUT_SECONDS = 3600;

  /** What the stream servers claim their sockets as ({@link PortClaims}). */
  private static final String CLAIM_KIND = "TLS/TCP";

  /** Where one StreamPort is served: its address (empty for the shared one) and port. */
  private record ListenAddress(String address, int port) {
  }

  private final ProxyOptions options;
  private final StreamMetrics metrics;
  private final PortClaims claims;
  private final Map<ListenAddress, NetServer> servers = new HashMap<>();
  /** The servers of {@link #servers} whose socket claim was granted. */
  private final Set<ListenAddress> claimed = new HashSet<>();
  /**
   * The HTTP proxy's handoff socket of each port (see {@link PortClaims#handoffAddress}), worked
   * out once instead of per connection under the claims' lock.
   */
  private final Map<ListenAddress, SocketAddress> handoffTargets = new HashMap<>();
  private Versioned<RoutingTable> table;
  private Versioned<EndpointsIndex> endpoints;
  private Map<ListenAddress, StreamPort> ports = Map.of();
  private NetClient client;
  /** The rule and endpoint pickers, for the current table and endpoints. */
  private final LoadBalancerState pickers = new LoadBalancerState();
  private final TlsTerminator terminator = new TlsTerminator();
  private HttpsHandoff handoff;
  private HealthRegistry health;
  private StreamConnections connections;
  private CircuitBreakers breakers;
  /** TLS settings towards backends of a BackendTLSPolicy, one instance per policy setting. */
  private final Map<UpstreamTls, ClientSSLOptions> upstreamTls = new HashMap<>();

  public StreamProxyVerticle(ProxyOptions options, PortClaims claims, StreamMetrics metrics) {
    this.options = Objects.requireNonNull(options, "options");
    this.claims = Objects.requireNonNull(claims, "claims");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  @Override
  public Future<?> start() {
    client = vertx.createNetClient(new NetClientOptions()
        // TLS to backends (BackendTLSPolicy) as for HTTP upstreams: OpenSSL, their suites.
        .setSslEngineOptions(TlsEngines.engine())
        .setConnectTimeout(options.connectTimeoutMillis())
        .setTcpNoDelay(true)
        .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
        .setIdleTimeoutUnit(TimeUnit.SECONDS));
    handoff = new HttpsHandoff(client, metrics);
    health = HealthRegistry.of(vertx);
    connections = StreamConnections.of(vertx);
    breakers = CircuitBreakers.of(vertx);
    return StateSubscription.subscribe(vertx, this::applyTable, this::applyEndpoints);
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> closing = new ArrayList<>();
    servers.forEach((key, server) -> {
      closing.add(server.close());
      release(key);
    });
    servers.clear();
    return Future.join(closing);
  }

  private void applyEndpoints(Versioned<EndpointsIndex> update) {
    if (update.newerThan(endpoints)) {
      endpoints = update;
      pickers.useEndpoints(update.value());
      upstreamTls.keySet().retainAll(new java.util.HashSet<>(update.value().upstreamTls().values()));
    }
  }

  private Future<Void> applyTable(Versioned<RoutingTable> update) {
    if (!update.newerThan(table)) {
      return Future.succeededFuture();
    }
    if (!update.value().validate().isEmpty()) {
      return Future.succeededFuture(); // The HTTP proxy logs the refusal; keep the last good.
    }
    table = update;
    Map<ListenAddress, StreamPort> served = new HashMap<>();
    for (StreamPort port : update.value().streamPorts()) {
      if (port.protocol() != StreamProtocol.UDP) {
        served.put(new ListenAddress(port.address(), port.port()), port);
      }
    }
    ports = served;
    pickers.resetGroups();
    List<io.portico.ir.TlsCertificate> certificates = new ArrayList<>();
    served.values().forEach(port -> port.listeners().forEach(listener -> {
      if (listener.terminate() != null) {
        certificates.add(listener.terminate());
      }
    }));
    terminator.retainOnly(certificates);
    return reconcileServers();
  }

  /** Binds the ports the table has and releases the ones it no longer has. */
  private Future<Void> reconcileServers() {
    List<Future<?>> pending = new ArrayList<>();
    for (ListenAddress key : ports.keySet()) {
      if (!servers.containsKey(key)) {
        pending.add(bind(key));
      }
    }
    for (ListenAddress key : new ArrayList<>(servers.keySet())) {
      if (!ports.containsKey(key)) {
        servers.remove(key).close();
        release(key);
        LOG.info("stopped serving stream port {} {}", key.port(), key.address());
      }
    }
    return Future.join(pending).mapEmpty();
  }

  /**
   * Binds one port. A port a new table moves from HTTP to TLS/TCP may still be held by the HTTP
   * proxy for a moment (it releases it on its own event loop): the socket is claimed first.
   */
  private Future<?> bind(ListenAddress key) {
    int bindPort = options.bindPort(key.port());
    String host = options.bindHost(key.address());
    NetServer server = vertx.createNetServer(new NetServerOptions()
        .setTcpNoDelay(true)
        .setIdleTimeout(IDLE_TIMEOUT_SECONDS)
        .setIdleTimeoutUnit(TimeUnit.SECONDS));
    server.connectHandler(socket -> accept(socket, key));
    servers.put(key, server);
    Future<?> listening = claims.claim(vertx, host, bindPort, CLAIM_KIND,
            () -> servers.get(key) == server)
        .compose(granted -> {
          if (!granted) {
            return Future.succeededFuture(); // A newer table no longer serves the port.
          }
          claimed.add(key);
          return server.listen(bindPort, host)
              .onSuccess(s -> LOG.debug("serving stream port {} on {}:{}", key.port(), host,
                  s.actualPort()));
        })
        .onFailure(e -> {
          if (servers.remove(key, server)) {
            release(key);
          }
          LOG.error("cannot serve stream port {} on {}:{}: {}", key.port(), host, bindPort,
              e.getMessage());
        });
    // As for HTTP ports: a Gateway's own address failing disables that Gateway only.
    return key.address().isEmpty() ? listening : listening.otherwiseEmpty();
  }

  private void release(ListenAddress key) {
    if (claimed.remove(key)) {
      claims.release(options.bindHost(key.address()), options.bindPort(key.port()), CLAIM_KIND);
    }
  }


  private void accept(NetSocket socket, ListenAddress key) {
    // Looked up per connection: a table swap applies to the next connection, in-flight ones
    // keep the backend they were given.
    StreamPort port = ports.get(key);
    if (port == null) {
      socket.close();
      return;
    }
    if (port.protocol() == StreamProtocol.TLS) {
      readClientHello(socket, key);
    } else {
      StreamListener listener = port.findListener(null);
      route(socket, port.protocol(), listener == null ? null : listener.findRoute(null), null,
          true);
    }
  }

  /**
   * Collects the ClientHello, however it is split, then routes by its SNI name. Nothing is
   * decrypted; the bytes read are sent to the backend first.
   */
  private void readClientHello(NetSocket socket, ListenAddress key) {
    ClientHelloReader reader = new ClientHelloReader(MAX_CLIENT_HELLO_BYTES);
    long timer = vertx.setTimer(CLIENT_HELLO_TIMEOUT_MILLIS,
        t -> refuse(socket, StreamProtocol.TLS, StreamOutcome.BAD_CLIENT_HELLO));
    socket.closeHandler(v -> vertx.cancelTimer(timer));
    socket.exceptionHandler(e -> socket.close());
    socket.handler(bytes -> {
      ClientHelloReader.State state = reader.feed(bytes);
      if (state == ClientHelloReader.State.NEED_MORE) {
        return;
      }
      vertx.cancelTimer(timer);
      socket.pause();
      socket.handler(null);
      switch (state) {
        case NOT_TLS -> refuse(socket, StreamProtocol.TLS, StreamOutcome.NOT_TLS);
        case TOO_LARGE, MALFORMED ->
            refuse(socket, StreamProtocol.TLS, StreamOutcome.BAD_CLIENT_HELLO);
        default -> {
          StreamPort port = ports.get(key);
          StreamListener listener = port == null ? null : port.findListener(reader.serverName());
          if (listener != null && listener.https()) {
            handoff.handOff(socket, handoffTargets.computeIfAbsent(key,
                k -> claims.handoffAddress(options.bindHost(k.address()),
                    options.bindPort(k.port()))), reader.received());
            return;
          }
          StreamRoute route = listener == null ? null : listener.findRoute(reader.serverName());
          if (route == null || listener.terminate() == null) {
            // Passthrough: the client's TLS goes to the backend as it is (no BackendTLSPolicy).
            route(socket, StreamProtocol.TLS, route, reader.received(), false);
            return;
          }
          // tls.mode Terminate: the backend gets the decrypted stream.
          try {
            terminator.terminate(socket, listener.terminate(), reader.received());
          } catch (java.security.GeneralSecurityException | RuntimeException e) {
            // A certificate the translator accepted but the TLS stack refuses: this connection
            // is closed, the others are unaffected.
            LOG.warn("cannot terminate TLS for {}: {}", listener.name(), e.toString());
            refuse(socket, StreamProtocol.TLS, StreamOutcome.BAD_CLIENT_HELLO);
            return;
          }
          route(socket, StreamProtocol.TLS, route, null, true);
        }
      }
    });
  }

  /**
   * @param first bytes already read from the client, sent to the backend first (or null)
   * @param backendTls whether a BackendTLSPolicy on the backend applies: yes for TCP and
   *     terminated TLS, no for passthrough (the stream is the client's own TLS already)
   */
  private void route(NetSocket socket, StreamProtocol protocol, StreamRoute route, Buffer first,
      boolean backendTls) {
    if (route == null) {
      refuse(socket, protocol, StreamOutcome.NO_ROUTE);
      return;
    }
    if (route.unenforced() != null) {
      // A SecurityPolicy Portico cannot enforce: closed rather than served without it.
      refuse(socket, protocol, StreamOutcome.SECURITY_POLICY_NOT_ENFORCED);
      return;
    }
    BackendGroup group = route.backends();
    WeightedBackend backend = pickers.group(group).next();
    if (backend == null || !backend.available()) {
      refuse(socket, protocol, StreamOutcome.INVALID_BACKEND);
      return;
    }
    List<Endpoint> list = endpoints == null ? List.of() : endpoints.value().get(backend.key());
    // Active and passive health checking of the rule's policy leave out unhealthy endpoints.
    List<Endpoint> candidates = health.candidates(backend.key(), list);
    RoundRobin picker = pickers.endpoints(backend.key(), candidates);
    String clientHost = socket.remoteAddress() == null ? null : socket.remoteAddress().host();
    Endpoint endpoint = connections.pick(group.loadBalancing(), candidates, picker, clientHost,
        null);
    if (endpoint == null) {
      refuse(socket, protocol, StreamOutcome.NO_ENDPOINTS);
      return;
    }
    UpstreamTls tls = backendTls ? endpoints.value().tls(backend.key()) : null;
    if (tls != null && !tls.usable()) {
      // Never in clear to a backend that a BackendTLSPolicy says speaks TLS.
      refuse(socket, protocol, StreamOutcome.INVALID_BACKEND);
      return;
    }
    BackendResilience.CircuitBreaker breaker = group.traffic().resilience().circuitBreaker();
    CircuitBreakers.Counters counters = breaker == null ? null : breakers.counters(group.name());
    if (counters != null && !counters.tryConnection(breaker)) {
      // circuitBreaker.maxConnections: Envoy's TCP proxy closes a connection past it.
      refuse(socket, protocol, StreamOutcome.OVERFLOW);
      return;
    }
    // Run once: on the final connect failure, or when the connection that got through closes.
    Runnable release = counters == null ? () -> { } : counters::releaseConnection;
    socket.pause();
    boolean[] clientGone = {false};
    socket.closeHandler(v -> clientGone[0] = true);
    socket.exceptionHandler(e -> socket.close());
    connect(new Attempt(socket, protocol, first, tls, group, candidates, picker, clientHost,
        clientGone, release), endpoint, true);
  }

  /** One client connection on its way to an endpoint. */
  private record Attempt(NetSocket socket, StreamProtocol protocol, Buffer first, UpstreamTls tls,
      BackendGroup group, List<Endpoint> candidates, RoundRobin picker, String clientHost,
      boolean[] clientGone, Runnable release) {
  }

  /** Connects to {@code endpoint}; a refused connect is tried once more on another endpoint. */
  private void connect(Attempt attempt, Endpoint endpoint, boolean mayRetry) {
    ConnectOptions target = new ConnectOptions().setHost(endpoint.host())
        .setPort(endpoint.port());
    BackendResilience.Timeouts timeouts = attempt.group().traffic().resilience().timeouts();
    if (timeouts != null && timeouts.connectMillis() > 0) {
      target.setTimeout((int) Math.min(Integer.MAX_VALUE, timeouts.connectMillis()));
    }
    UpstreamTls tls = attempt.tls();
    if (tls != null) {
      target.setSsl(true).setSniServerName(tls.hostname())
          .setSslOptions(upstreamTls.computeIfAbsent(tls, t -> new ClientSSLOptions()
              .setEnabledSecureTransportProtocols(TlsEngines.PROTOCOLS)
              // The name is checked by UpstreamTrustManager against the policy, not the pod IP.
              .setHostnameVerificationAlgorithm("")
              .setTrustOptions(TrustOptions.wrap(new UpstreamTrustManager(t)))));
    }
    NetSocket socket = attempt.socket();
    client.connect(target).onComplete(result -> {
      if (result.failed()) {
        health.report(endpoint, Outcome.LOCAL_ORIGIN_FAILURE);
        Endpoint other = mayRetry && !attempt.clientGone()[0]
            ? connections.pick(attempt.group().loadBalancing(), attempt.candidates(),
                attempt.picker(), attempt.clientHost(), endpoint)
            : null;
        if (other != null) {
          connect(attempt, other, false);
        } else {
          LOG.debug("stream connection to {} failed: {}", endpoint, result.cause().getMessage());
          attempt.release().run();
          refuse(socket, attempt.protocol(), StreamOutcome.CONNECT_FAILED);
        }
        return;
      }
      health.report(endpoint, Outcome.SUCCESS);
      NetSocket upstream = result.result();
      connections.opened(endpoint);
      Runnable closed = () -> {
        connections.closed(endpoint);
        attempt.release().run();
      };
      if (attempt.clientGone()[0]) {
        upstream.close();
        closed.run();
        return;
      }
      metrics.count(attempt.protocol(), StreamOutcome.PROXIED);
      SocketSplice.splice(socket, upstream, attempt.first(), closed);
    });
  }

  private void refuse(NetSocket socket, StreamProtocol protocol, StreamOutcome outcome) {
    metrics.count(protocol, outcome);
    socket.close();
  }
}
