package io.portico.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.NetUtil;
import io.portico.ir.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Portico's own HTTP/1.1 client for cleartext endpoints, on Netty's codec and on the event loop
 * of its proxy verticle (one per verticle, confined to it): a LIFO pool of keep-alive
 * connections per endpoint, and each answer's head, body chunks and end handed to the relay as
 * Netty decodes them (see {@link Http1Call}).
 *
 * <p>Why not Vert.x's client: it costs ~6.6 µs CPU a request more than a bare Netty client in
 * front of the same backend ({@code bench/floor.sh}: its request, response and stream objects,
 * futures and the tasks it queues; its pool alone is ~1 µs), a third of Portico's whole cost
 * per request. Vert.x's client stays for what this one does not do: h2c and HTTPS endpoints,
 * the pools a BackendTrafficPolicy sets (size, idle timeout, lifetime, requests per
 * connection, the circuit breaker's connection count), mirrors, and endpoints named by a host
 * name, which would need a resolver on the event loop ({@code named}: the default HTTP/1.1
 * client of Vert.x).
 *
 * <p>The pool keeps, per endpoint, at most {@link Settings#maxConnectionsPerEndpoint}
 * connections open or opening; past that a request waits, in arrival order, for one to be free,
 * within its connect timeout (then it fails as a connect timeout, as Vert.x's pool does). The
 * most recently used idle connection is taken first, so that idle ones age out: a connection idle
 * for the idle timeout, or for as long as the endpoint said it keeps idle connections
 * ({@code Keep-Alive: timeout=N}, when shorter), is closed by a sweep (once a second, or four
 * times per idle timeout when that is shorter) or when next taken, and an endpoint with
 * nothing open is forgotten. A connection that has
 * carried {@code maxRequestsPerConnection} requests, or lived {@code maxConnectionDuration}, is
 * closed once its request is done.
 *
 * <p>A BackendTrafficPolicy's connection pool and circuit breaker get clients of their own
 * (see the proxy's UpstreamClients); its connections are counted against the circuit breaker's
 * {@code maxConnections} through {@link UpstreamConnection}.
 */
public final class Http1Upstreams implements UpstreamClient {

  /**
   * The pool settings of one client.
   *
   * @param maxConnectionsPerEndpoint connections open or opening per endpoint on this loop
   * @param idleTimeoutMillis how long a connection may stay idle in the pool
   * @param maxLifetimeMillis how long a connection may live (0: no limit)
   * @param maxRequestsPerConnection requests one connection carries (0: no limit)
   */
  public record Settings(int maxConnectionsPerEndpoint, long idleTimeoutMillis,
      long maxLifetimeMillis, int maxRequestsPerConnection) {
  }

  /** Makes Vert.x's header maps, which validate names and values as Netty's do. */
  private static final HttpHeadersFactory VERTX_HEADERS = new HttpHeadersFactory() {
    @Override
    public HttpHeaders newHeaders() {
      return HeadersMultiMap.httpHeaders();
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
      return HeadersMultiMap.httpHeaders();
    }
  };

  private final ContextInternal context;
  private final Bootstrap bootstrap;
  private final Supplier<UpstreamClient> named;
  private UpstreamClient namedClient;
  private final Settings settings;
  private final long idleNanos;
  private final long sweepMillis;
  private final Map<Endpoint, EndpointPool> pools = new HashMap<>();
  private long sweepTimer = -1;
  private boolean closed;

  /**
   * @param context the proxy verticle's context, whose event loop the connections use
   * @param defaults the settings of upstream clients, for the codec's limits
   * @param named makes the client for endpoints named by host name rather than IP address (on
   *     first use)
   */
  public Http1Upstreams(ContextInternal context, HttpClientOptions defaults, Settings settings,
      Supplier<UpstreamClient> named) {
    this.context = context;
    this.named = named;
    this.settings = settings;
    this.idleNanos = settings.idleTimeoutMillis() * 1_000_000;
    this.sweepMillis = Math.max(10, Math.min(1000, settings.idleTimeoutMillis() / 4));
    int maxInitialLine = defaults.getMaxInitialLineLength();
    int maxHeaderSize = defaults.getMaxHeaderSize();
    int maxChunkSize = defaults.getMaxChunkSize();
    this.bootstrap = new Bootstrap()
        .group(context.nettyEventLoop())
        .channelFactory(context.owner().transport().channelFactory(false))
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel channel) {
            // As Vert.x's client: bounded head, bodies in chunks of at most maxChunkSize, header
            // names and values validated. Decoded into Vert.x's header map (also Netty's
            // HttpHeaders), which the relay reads as it is.
            channel.pipeline().addLast("codec", new Http1Codec(new HttpDecoderConfig()
                .setMaxInitialLineLength(maxInitialLine)
                .setMaxHeaderSize(maxHeaderSize)
                .setMaxChunkSize(maxChunkSize)
                .setHeadersFactory(VERTX_HEADERS)
                .setTrailersFactory(VERTX_HEADERS)));
          }
        });
    if (RelayBuffers.ALLOCATOR != null) {
      // Answers are read into relay buffers and written to the client without a copy.
      bootstrap.option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
    }
  }

  @Override
  public Future<UpstreamCall> request(Endpoint endpoint, HttpMethod method, String uri,
      long connectTimeoutMillis) {
    EndpointPool pool = pools.get(endpoint);
    if (pool == null) {
      InetAddress address = ipAddress(endpoint.host());
      if (address == null) {
        if (namedClient == null) {
          namedClient = named.get();
        }
        return namedClient.request(endpoint, method, uri, connectTimeoutMillis);
      }
      pool = new EndpointPool(new InetSocketAddress(address, endpoint.port()));
      pools.put(endpoint, pool);
      startSweep();
    }
    Http1Call call = new Http1Call(context, method, uri);
    Http1Connection idle = pool.takeIdle();
    if (idle != null) {
      idle.assign(call);
      return context.succeededFuture(call);
    }
    PromiseInternal<UpstreamCall> promise = context.promise();
    if (pool.open < settings.maxConnectionsPerEndpoint()) {
      connect(pool, call, promise, connectTimeoutMillis);
    } else {
      pool.await(new Waiter(pool, call, promise, connectTimeoutMillis));
    }
    return promise.future();
  }

  /** The endpoint's address when its host is an IP literal (no lookup), else null. */
  private static InetAddress ipAddress(String host) {
    byte[] bytes = NetUtil.createByteArrayFromIpAddressString(host);
    if (bytes == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(host, bytes);
    } catch (java.net.UnknownHostException e) {
      return null; // Not reached: the bytes are 4 or 16 long.
    }
  }

  private void connect(EndpointPool pool, Http1Call call, PromiseInternal<UpstreamCall> promise,
      long connectTimeoutMillis) {
    pool.open++;
    bootstrap.option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
        (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeoutMillis)));
    ChannelFuture connecting = bootstrap.connect(pool.address);
    connecting.addListener((ChannelFutureListener) done -> context.dispatch(done,
        result -> connected(pool, call, promise, result)));
  }

  private void connected(EndpointPool pool, Http1Call call, PromiseInternal<UpstreamCall> promise,
      ChannelFuture result) {
    if (!result.isSuccess()) {
      pool.open--;
      promise.fail(result.cause());
      serveWaiter(pool);
      return;
    }
    Channel channel = result.channel();
    Http1Connection connection = new Http1Connection(this, context, pool, channel);
    channel.pipeline().addLast("portico", connection);
    connection.assign(call);
    promise.complete(call);
  }

  /**
   * Takes back {@code connection} after a request: pooled (or handed to the first waiting
   * request) when {@code reusable}, else closed.
   */
  void released(Http1Connection connection, boolean reusable) {
    if (!reusable || closed || !connection.channel.isActive() || worn(connection)) {
      connection.channel.close();
      return;
    }
    EndpointPool pool = connection.pool;
    Waiter waiter;
    while ((waiter = pool.nextWaiter()) != null) {
      if (waiter.take()) {
        connection.assign(waiter.call);
        waiter.promise.complete(waiter.call);
        return;
      }
    }
    // Idle no longer than the endpoint said it keeps the connection (Keep-Alive: timeout=N):
    // a request sent as the endpoint closes it would fail.
    connection.idleUntilNanos = System.nanoTime()
        + Math.min(idleNanos, connection.endpointIdleNanos);
    pool.idle.addLast(connection);
  }

  /** Whether {@code connection} has carried its last request or lived its time. */
  private boolean worn(Http1Connection connection) {
    return settings.maxRequestsPerConnection() > 0
        && connection.requests >= settings.maxRequestsPerConnection()
        || settings.maxLifetimeMillis() > 0 && System.nanoTime() - connection.openedNanos
            >= settings.maxLifetimeMillis() * 1_000_000;
  }

  /** Forgets {@code connection}, closed; a waiting request may open another. */
  void closed(Http1Connection connection) {
    EndpointPool pool = connection.pool;
    pool.open--;
    pool.idle.remove(connection);
    serveWaiter(pool);
  }

  /** Closes {@code pool}'s idle connections (see {@link Http1Connection}'s failures). */
  void closeIdle(EndpointPool pool) {
    Http1Connection idle;
    while ((idle = pool.idle.pollFirst()) != null) {
      // Closed by a task of its own, once the event loop is done with what its last wait
      // brought, which may hold this connection's close by the endpoint: closed now, its file
      // descriptor could go to the new connection of the retry, and that close with it.
      // Counted out of the pool's open connections when the close is handled.
      Channel channel = idle.channel;
      channel.eventLoop().execute(channel::close);
    }
  }

  /** Opens a connection for the first waiting request, if any and the pool has room. */
  private void serveWaiter(EndpointPool pool) {
    Waiter waiter;
    while (pool.open < settings.maxConnectionsPerEndpoint()
        && (waiter = pool.nextWaiter()) != null) {
      if (waiter.take()) {
        connect(pool, waiter.call, waiter.promise, waiter.remainingMillis());
      }
    }
  }

  private void startSweep() {
    if (sweepTimer < 0) {
      sweepTimer = context.setPeriodic(sweepMillis, id -> sweep());
    }
  }

  /** Closes connections idle for the idle timeout; forgets endpoints with none open. */
  private void sweep() {
    long now = System.nanoTime();
    Iterator<EndpointPool> each = pools.values().iterator();
    while (each.hasNext()) {
      EndpointPool pool = each.next();
      pool.idle.removeIf(idle -> {
        boolean expired = now - idle.idleUntilNanos >= 0 || worn(idle);
        if (expired) {
          idle.channel.close();
        }
        return expired;
      });
      pool.waiters.removeIf(waiter -> waiter.taken);
      if (pool.open == 0 && pool.waiters.isEmpty()) {
        each.remove();
      }
    }
    if (pools.isEmpty()) {
      context.owner().cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  /**
   * Closes the idle connections, and every other one once its request is done (its pool
   * settings are no longer used, or the verticle is stopping).
   */
  public void close() {
    closed = true;
    if (namedClient instanceof VertxUpstreamClient vertxClient) {
      vertxClient.shutdown(30);
    }
    for (EndpointPool pool : pools.values()) {
      // Requests under way (and waiting ones) finish; their connections close after them.
      for (Http1Connection connection : List.copyOf(pool.idle)) {
        connection.channel.close();
      }
    }
  }

  /** Connections per endpoint: the idle ones, how many are open, the requests waiting. */
  static final class EndpointPool {

    final InetSocketAddress address;
    /** Free connections, the most recently used last. */
    final ArrayDeque<Http1Connection> idle = new ArrayDeque<>();
    /** Connections open or being opened. */
    int open;
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>(0);

    EndpointPool(InetSocketAddress address) {
      this.address = address;
    }

    /**
     * The most recently used free connection still open and within its idle time, or null;
     * those past it are closed on the way.
     */
    Http1Connection takeIdle() {
      Http1Connection connection;
      long now = 0;
      while ((connection = idle.pollLast()) != null) {
        if (!connection.channel.isActive()) {
          continue;
        }
        if (now == 0) {
          now = System.nanoTime();
        }
        if (now - connection.idleUntilNanos < 0) {
          return connection;
        }
        connection.channel.close();
      }
      return null;
    }

    void await(Waiter waiter) {
      waiters.addLast(waiter);
    }

    Waiter nextWaiter() {
      return waiters.pollFirst();
    }
  }

  /** A request waiting for a connection of a full pool, until its connect timeout. */
  private final class Waiter {

    private final EndpointPool pool;
    final Http1Call call;
    final PromiseInternal<UpstreamCall> promise;
    final long deadlineNanos;
    private final long timer;
    /** Whether it got its turn or expired: left in the queue, it is skipped. */
    boolean taken;

    Waiter(EndpointPool pool, Http1Call call, PromiseInternal<UpstreamCall> promise,
        long connectTimeoutMillis) {
      this.pool = pool;
      this.call = call;
      this.promise = promise;
      this.deadlineNanos = System.nanoTime() + connectTimeoutMillis * 1_000_000;
      this.timer = context.setTimer(Math.max(1, connectTimeoutMillis), id -> expire(
          connectTimeoutMillis));
    }

    /** Takes this waiter out of the queue's hands; false when it has expired already. */
    boolean take() {
      if (taken) {
        return false;
      }
      taken = true;
      context.owner().cancelTimer(timer);
      return true;
    }

    long remainingMillis() {
      return Math.max(1, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }

    private void expire(long connectTimeoutMillis) {
      if (taken) {
        return;
      }
      taken = true; // Left in the queue: skipped when its turn comes.
      promise.fail(new ConnectTimeoutException("no connection to " + pool.address + " within "
          + connectTimeoutMillis + " ms: all " + settings.maxConnectionsPerEndpoint()
          + " connections of the endpoint busy"));
    }
  }
}
