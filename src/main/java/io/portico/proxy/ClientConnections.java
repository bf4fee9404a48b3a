package io.portico.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds the client connections of one proxy event loop to their {@link ClientLimits}: the
 * per-listener connection cap at accept, then, per connection, the request-head deadline (408
 * and close), the idle timeout (close) and HTTP/2's maximum age (GOAWAY).
 *
 * <p>Cheap by construction: nothing is allocated or scheduled per request. Each HTTP/1.x
 * connection gets one small Netty handler that notes when a request head arrives and when its
 * response ends (field writes, against a clock read once per sweep); each event loop sweeps its
 * own connections on one periodic timer. Vert.x has no public hook into the connection's
 * pipeline nor a way to answer before a request exists, so the connection's channel is reached
 * through {@link ConnectionBase} (Vert.x's own base class of every connection).
 *
 * <p>Vert.x creates a cleartext connection only once it can tell HTTP/1.1 from h2c, and with
 * h2c enabled only once the first request head is complete: until then nothing here sees it,
 * and a {@link FirstHeadDeadline} times that head instead (removed here at accept). TLS
 * servers run Netty's read-idle handler at the request headers timeout as the backstop until
 * the handshake is done and the connection exists; the watches swallow its events once they
 * are in place.
 */
final class ClientConnections {

  private static final AttributeKey<Boolean> COUNTED = AttributeKey.valueOf("portico.counted");

  private final Vertx vertx;
  private final ClientLimits limits;
  private final ProxyMetrics metrics;
  private final Responder responder;
  private final List<Watch> watches = new ArrayList<>();
  private final long timer;
  /** The event loop's coarse clock, read once per sweep. */
  private long now = System.nanoTime();

  ClientConnections(Vertx vertx, ClientLimits limits, ProxyMetrics metrics, Responder responder) {
    this.vertx = vertx;
    this.limits = limits;
    this.metrics = metrics;
    this.responder = responder;
    this.timer = vertx.setPeriodic(limits.sweepIntervalMillis(), id -> sweep());
  }

  void stop() {
    vertx.cancelTimer(timer);
  }

  /**
   * Returns the connection handler of one listener port: counts its connections against the
   * cap (shared by every event loop) and watches the admitted ones.
   *
   * @param listener names the listener port, e.g. {@code ":8080"}
   */
  Handler<HttpConnection> acceptor(String listener) {
    AtomicInteger open = ConnectionCounts.of(vertx).counter(listener);
    return connection -> accept(connection, open);
  }

  private void accept(HttpConnection connection, AtomicInteger open) {
    if (!(connection instanceof ConnectionBase base)) {
      return;
    }
    Channel channel = base.channel();
    // An h2c upgrade hands the same channel over again as an HTTP/2 connection: count it once.
    if (channel.attr(COUNTED).setIfAbsent(Boolean.TRUE) == null) {
      if (open.incrementAndGet() > limits.connectionLimit()) {
        open.decrementAndGet();
        metrics.connectionRefused();
        channel.close();
        return;
      }
      channel.closeFuture().addListener(f -> open.decrementAndGet());
    }
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(FirstHeadDeadline.NAME) != null) {
      pipeline.remove(FirstHeadDeadline.NAME); // Timed from here on by the watch below.
    }
    Watch watch;
    if (pipeline.get("httpDecoder") != null && pipeline.get("handler") != null) {
      Http1Watch http1 = new Http1Watch(this, channel);
      pipeline.addBefore("handler", "portico-client-limits", http1);
      watch = http1.watch;
    } else {
      Http2ConnectionHandler http2 = pipeline.get(Http2ConnectionHandler.class);
      if (http2 == null) {
        return;
      }
      if (pipeline.get("handler") != null) {
        pipeline.addBefore("handler", "portico-idle-sink", IdleEventSink.INSTANCE);
      }
      Http2WriteBatching.install(channel);
      Http2AuthorityGuard.install(http2, responder);
      watch = new Http2Watch(channel, connection, http2, now);
    }
    watches.add(watch);
    channel.closeFuture().addListener(f -> watch.closed = true);
  }

  private void sweep() {
    now = System.nanoTime();
    long headNanos = TimeUnit.MILLISECONDS.toNanos(limits.requestHeadersTimeoutMillis());
    long idleNanos = TimeUnit.MILLISECONDS.toNanos(limits.idleTimeoutMillis());
    long ageNanos = TimeUnit.MILLISECONDS.toNanos(limits.http2MaxConnectionAgeMillis());
    int kept = 0;
    for (int i = 0; i < watches.size(); i++) {
      Watch watch = watches.get(i);
      if (watch.closed || !watch.check(this, headNanos, idleNanos, ageNanos)) {
        continue;
      }
      watches.set(kept++, watch);
    }
    watches.subList(kept, watches.size()).clear();
  }

  /** One watched connection. Confined to its event loop. */
  private abstract static class Watch {
    final Channel channel;
    final long opened;
    volatile boolean closed;

    Watch(Channel channel, long now) {
      this.channel = channel;
      this.opened = now;
    }

    /** Applies the deadlines at the sweep's time; returns false when no longer watched. */
    abstract boolean check(ClientConnections owner, long headNanos, long idleNanos,
        long ageNanos);
  }

  /**
   * An HTTP/1.x connection: sits after the codec, so it sees decoded request heads and the
   * response objects Vert.x writes.
   */
  private static final class Http1Watch extends ChannelDuplexHandler {
    // The connection waits for a request head with none of it received yet (keep-alive idle),
    // has part of one (or is new: its first head is due), or has a request in flight.
    private static final int IDLE = 0;
    private static final int PARTIAL_HEAD = 1;
    private static final int BUSY = 2;
    // Switched protocols (WebSocket tunnel): no deadlines of this class any more.
    private static final int UPGRADED = 3;

    private final ClientConnections owner;
    final Watch watch;
    private ChannelHandlerContext context;
    private int state = PARTIAL_HEAD;
    /** When the current state began, on the owner's clock. */
    private long since;
    /** Request heads read minus responses written (Vert.x queues pipelined requests). */
    private int inFlight;
    /** Whether the current read decoded anything (then its bytes were no partial head). */
    private boolean decoded;

    Http1Watch(ClientConnections owner, Channel channel) {
      this.owner = owner;
      this.since = owner.now;
      this.watch = new Watch(channel, owner.now) {
        @Override
        boolean check(ClientConnections clients, long headNanos, long idleNanos, long ageNanos) {
          return Http1Watch.this.check(headNanos, idleNanos);
        }
      };
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      context = ctx;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof IdleStateEvent) {
        return; // The read-idle backstop is for connections not watched yet (see accept).
      }
      super.userEventTriggered(ctx, event);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (state == UPGRADED) {
        super.channelRead(ctx, msg);
        return;
      }
      if (msg instanceof HttpRequest) {
        inFlight++;
        state = BUSY;
      } else if (!(msg instanceof HttpObject)) {
        // Tunnel bytes (WebSocket) or HTTP/2 after an h2c upgrade: nothing left to time here.
        upgraded();
      }
      decoded = true;
      super.channelRead(ctx, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      if (state == IDLE && !decoded && !watch.closed) {
        // Bytes of the next head, not all of it: its deadline starts now.
        state = PARTIAL_HEAD;
        since = owner.now;
      }
      decoded = false;
      super.channelReadComplete(ctx);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
        throws Exception {
      if (msg instanceof HttpResponse response && response.status().code() == 101) {
        upgraded();
      } else if (state == UPGRADED) {
        // Tunnel bytes.
      } else if (msg instanceof LastHttpContent && inFlight > 0 && --inFlight == 0) {
        state = IDLE;
        since = owner.now;
      }
      super.write(ctx, msg, promise);
    }

    /**
     * Stops the deadlines after a protocol switch. The handler stays in the pipeline, so the
     * read-idle backstop cannot close a quiet tunnel.
     */
    private void upgraded() {
      watch.closed = true;
      state = UPGRADED;
    }

    private boolean check(long headNanos, long idleNanos) {
      long waited = owner.now - since;
      if (state == PARTIAL_HEAD && waited > headNanos) {
        owner.responder.requestHeaderTimeout(context);
        return false;
      }
      if (state == IDLE && waited > idleNanos) {
        context.close();
        return false;
      }
      return true;
    }
  }

  /** An HTTP/2 connection: idle while it has no stream open, GOAWAY at its maximum age. */
  private static final class Http2Watch extends Watch {
    private final HttpConnection connection;
    private final Http2ConnectionHandler http2;
    private long idleSince;
    private int lastStream = -1;
    private boolean goingAway;

    Http2Watch(Channel channel, HttpConnection connection, Http2ConnectionHandler http2,
        long now) {
      super(channel, now);
      this.connection = connection;
      this.http2 = http2;
      this.idleSince = now;
    }

    @Override
    boolean check(ClientConnections owner, long headNanos, long idleNanos, long ageNanos) {
      long now = owner.now;
      int last = http2.connection().remote().lastStreamCreated();
      if (http2.connection().numActiveStreams() > 0 || last != lastStream) {
        lastStream = last;
        idleSince = now;
      } else if (now - idleSince > idleNanos) {
        connection.close();
        return false;
      }
      if (ageNanos > 0 && !goingAway && now - opened > ageNanos) {
        goingAway = true;
        // GOAWAY now; streams in flight get the idle timeout to finish.
        connection.shutdown(owner.limits.idleTimeoutMillis(), TimeUnit.MILLISECONDS);
      }
      return true;
    }
  }

  /**
   * Keeps the read-idle backstop's events from an HTTP/2 connection, whose Vert.x handler would
   * close it even with streams in flight; {@link Http2Watch} applies the idle timeout instead.
   */
  @io.netty.channel.ChannelHandler.Sharable
  private static final class IdleEventSink extends io.netty.channel.ChannelInboundHandlerAdapter {
    static final IdleEventSink INSTANCE = new IdleEventSink();

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (!(event instanceof IdleStateEvent)) {
        super.userEventTriggered(ctx, event);
      }
    }
  }

  /** Open client connections per listener port, shared by every event loop. */
  static final class ConnectionCounts implements Shareable {
    private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    static ConnectionCounts of(Vertx vertx) {
      LocalMap<String, ConnectionCounts> map = vertx.sharedData().getLocalMap("portico.clients");
      ConnectionCounts counts = map.get("counts");
      if (counts == null) {
        ConnectionCounts created = new ConnectionCounts();
        counts = map.putIfAbsent("counts", created);
        if (counts == null) {
          counts = created;
        }
      }
      return counts;
    }

    AtomicInteger counter(String listener) {
      return counts.computeIfAbsent(listener, key -> new AtomicInteger());
    }
  }
}
