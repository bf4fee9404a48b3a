package io.portico.proxy.tcp;

import io.portico.bus.StateSubscription;
import io.portico.bus.Versioned;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.ir.StreamProtocol;
import io.portico.ir.StreamRoute;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.ProxyOptions;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;

/**
 * Serves the Gateway listener ports of protocol UDP: each client address (IP and port) gets a
 * session, pinned to one endpoint picked like a TCP connection (the listener's oldest route, a
 * backend by weight, an endpoint round robin), with its own upstream socket so replies find
 * their way back; replies are sent to the client from the listener port. A session ends after
 * {@link #IDLE_TIMEOUT_MILLIS} without datagrams either way; a port holds at most
 * {@link #MAX_SESSIONS_PER_PORT} sessions, datagrams of further new clients are dropped (and
 * counted) until some expire.
 *
 * <p>One instance: a UDP port cannot be shared between event loops the way Vert.x shares TCP
 * ports, and a session's datagrams must go through one socket in order anyway.
 */
public final class UdpProxyVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(UdpProxyVerticle.class);

  /** Envoy's UDP proxy default idle timeout. */
  static final long IDLE_TIMEOUT_MILLIS = 60_000;
  static final int MAX_SESSIONS_PER_PORT = 16_384;
  /** Datagrams of a new session kept while its upstream socket is being bound. */
  private static final int MAX_PENDING = 16;

  private record ListenAddress(String address, int port) {
  }

  /** One bound UDP listener port and its sessions. */
  private static final class PortServer {
    final DatagramSocket socket;
    final Map<SocketAddress, Session> sessions = new HashMap<>();

    PortServer(DatagramSocket socket) {
      this.socket = socket;
    }
  }

  /** One client's flow to one endpoint. */
  private static final class Session {
    final SocketAddress client;
    final Endpoint endpoint;
    final DatagramSocket upstream;
    /** Told when the session ends (the endpoint's open-session count). */
    final StreamConnections connections;
    /** Datagrams received before the upstream socket was bound; null once it is. */
    Queue<Buffer> pending = new ArrayDeque<>();
    long lastActive;

    Session(SocketAddress client, Endpoint endpoint, DatagramSocket upstream, long now,
        StreamConnections connections) {
      this.client = client;
      this.endpoint = endpoint;
      this.upstream = upstream;
      this.lastActive = now;
      this.connections = connections;
      connections.opened(endpoint);
    }

    /** Ends the session: closes its upstream socket. Called once per session. */
    void close() {
      upstream.close();
      connections.closed(endpoint);
    }

    void send(Buffer data) {
      if (pending != null) {
        if (pending.size() < MAX_PENDING) {
          pending.add(data);
        }
        return;
      }
      upstream.send(data, endpoint.port(), endpoint.host());
    }
  }

  private final ProxyOptions options;
  private final StreamMetrics metrics;
  private final long idleTimeoutMillis;
  private final int maxSessionsPerPort;
  private final Map<ListenAddress, PortServer> servers = new HashMap<>();
  private Versioned<RoutingTable> table;
  private Versioned<EndpointsIndex> endpoints;
  private Map<ListenAddress, StreamPort> ports = Map.of();
  /** The rule and endpoint pickers, for the current table and endpoints. */
  private final LoadBalancerState pickers = new LoadBalancerState();
  private StreamConnections connections;

  public UdpProxyVerticle(ProxyOptions options, StreamMetrics metrics) {
    this(options, metrics, IDLE_TIMEOUT_MILLIS, MAX_SESSIONS_PER_PORT);
  }

  UdpProxyVerticle(ProxyOptions options, StreamMetrics metrics, long idleTimeoutMillis,
      int maxSessionsPerPort) {
    this.options = Objects.requireNonNull(options, "options");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.idleTimeoutMillis = idleTimeoutMillis;
    this.maxSessionsPerPort = maxSessionsPerPort;
  }

  @Override
  public Future<?> start() {
    connections = StreamConnections.of(vertx);
    vertx.setPeriodic(Math.max(100, Math.min(1_000, idleTimeoutMillis / 4)), t -> expireIdle());
    return StateSubscription.subscribe(vertx, this::applyTable, this::applyEndpoints);
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> closing = new ArrayList<>();
    servers.values().forEach(server -> closing.add(close(server)));
    return Future.join(closing);
  }

  private void applyEndpoints(Versioned<EndpointsIndex> update) {
    if (update.newerThan(endpoints)) {
      endpoints = update;
      pickers.useEndpoints(update.value());
    }
  }

  private Future<Void> applyTable(Versioned<RoutingTable> update) {
    if (!update.newerThan(table) || !update.value().validate().isEmpty()) {
      return Future.succeededFuture();
    }
    table = update;
    Map<ListenAddress, StreamPort> served = new HashMap<>();
    for (StreamPort port : update.value().streamPorts()) {
      if (port.protocol() == StreamProtocol.UDP) {
        served.put(new ListenAddress(port.address(), port.port()), port);
      }
    }
    ports = served;
    pickers.resetGroups();
    List<Future<?>> pending = new ArrayList<>();
    for (ListenAddress key : served.keySet()) {
      if (!servers.containsKey(key)) {
        pending.add(bind(key));
      }
    }
    for (ListenAddress key : new ArrayList<>(servers.keySet())) {
      if (!served.containsKey(key)) {
        close(servers.remove(key));
        LOG.info("stopped serving UDP port {} {}", key.port(), key.address());
      }
    }
    return Future.join(pending).mapEmpty();
  }

  private Future<Void> bind(ListenAddress key) {
    int bindPort = options.bindPort(key.port());
    String host = options.bindHost(key.address());
    DatagramSocket socket = vertx.createDatagramSocket(new DatagramSocketOptions());
    PortServer server = new PortServer(socket);
    socket.handler(packet -> receive(server, key, packet));
    servers.put(key, server);
    Future<Void> listening = socket.listen(bindPort, host)
        .onSuccess(s -> LOG.debug("serving UDP port {} on {}:{}", key.port(), host, bindPort))
        .onFailure(e -> {
          servers.remove(key, server);
          LOG.error("cannot serve UDP port {} on {}:{}: {}", key.port(), host, bindPort,
              e.getMessage());
        }).mapEmpty();
    return key.address().isEmpty() ? listening : listening.otherwiseEmpty();
  }

  private void receive(PortServer server, ListenAddress key, DatagramPacket packet) {
    long now = System.currentTimeMillis();
    Session session = server.sessions.get(packet.sender());
    if (session == null) {
      session = open(server, key, packet.sender(), now);
      if (session == null) {
        return;
      }
    }
    session.lastActive = now;
    session.send(packet.data());
  }

  /** Opens a session for a new client, or returns null (counted) when none can be. */
  private Session open(PortServer server, ListenAddress key, SocketAddress client, long now) {
    if (server.sessions.size() >= maxSessionsPerPort) {
      metrics.count(StreamProtocol.UDP, StreamOutcome.SESSION_LIMIT);
      return null;
    }
    StreamPort port = ports.get(key);
    StreamListener listener = port == null ? null : port.findListener(null);
    StreamRoute route = listener == null ? null : listener.findRoute(null);
    if (route == null) {
      metrics.count(StreamProtocol.UDP, StreamOutcome.NO_ROUTE);
      return null;
    }
    if (route.unenforced() != null) {
      // A SecurityPolicy Portico cannot enforce: dropped rather than served without it.
      metrics.count(StreamProtocol.UDP, StreamOutcome.SECURITY_POLICY_NOT_ENFORCED);
      return null;
    }
    WeightedBackend backend = pickers.group(route.backends()).next();
    if (backend == null || !backend.available()) {
      metrics.count(StreamProtocol.UDP, StreamOutcome.INVALID_BACKEND);
      return null;
    }
    List<Endpoint> list = endpoints == null ? List.of() : endpoints.value().get(backend.key());
    RoundRobin picker = pickers.endpoints(backend.key(), list);
    Endpoint endpoint = connections.pick(route.backends().loadBalancing(), list, picker,
        client.host(), null);
    if (endpoint == null) {
      metrics.count(StreamProtocol.UDP, StreamOutcome.NO_ENDPOINTS);
      return null;
    }
    DatagramSocket upstream = vertx.createDatagramSocket(new DatagramSocketOptions());
    Session session = new Session(client, endpoint, upstream, now, connections);
    server.sessions.put(client, session);
    upstream.handler(reply -> {
      if (!reply.sender().host().equals(endpoint.host())
          && !reply.sender().hostAddress().equals(endpoint.host())
          || reply.sender().port() != endpoint.port()) {
        return; // Only the session's endpoint may answer through it.
      }
      session.lastActive = System.currentTimeMillis();
      server.socket.send(reply.data(), client.port(), client.host());
    });
    upstream.listen(0, endpoint.host().contains(":") ? "::" : "0.0.0.0").onComplete(bound -> {
      Queue<Buffer> queued = session.pending;
      session.pending = null;
      if (bound.failed() || server.sessions.get(client) != session) {
        server.sessions.remove(client, session);
        session.close();
        metrics.count(StreamProtocol.UDP, StreamOutcome.CONNECT_FAILED);
        return;
      }
      queued.forEach(session::send);
    });
    metrics.count(StreamProtocol.UDP, StreamOutcome.PROXIED);
    return session;
  }

  private void expireIdle() {
    long cutoff = System.currentTimeMillis() - idleTimeoutMillis;
    for (PortServer server : servers.values()) {
      server.sessions.values().removeIf(session -> {
        if (session.lastActive >= cutoff) {
          return false;
        }
        session.close();
        return true;
      });
    }
  }

  private static Future<Void> close(PortServer server) {
    server.sessions.values().forEach(Session::close);
    server.sessions.clear();
    return server.socket.close();
  }

  /** For tests: the sessions currently open on all ports (read on the verticle's loop). */
  Future<Integer> sessions() {
    io.vertx.core.Promise<Integer> count = io.vertx.core.Promise.promise();
    context.runOnContext(v -> count.complete(
        servers.values().stream().mapToInt(s -> s.sessions.size()).sum()));
    return count.future();
  }
}
