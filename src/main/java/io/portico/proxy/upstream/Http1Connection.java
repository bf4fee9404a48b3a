package io.portico.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.internal.ContextInternal;

/**
 * One keep-alive connection of {@link Http1Upstreams} to an endpoint, the last handler of its
 * pipeline (after Netty's HTTP/1.1 codec): hands what the codec decodes to the request it
 * carries, one at a time, on the verticle's context (so that Vert.x futures completed there
 * call their listeners at once instead of queueing a task).
 */
final class Http1Connection extends ChannelInboundHandlerAdapter
    implements Handler<Object>, UpstreamConnection {

  private final Http1Upstreams owner;
  private final ContextInternal context;
  final Http1Upstreams.EndpointPool pool;
  final Channel channel;
  /** Until when the connection may stay idle in the pool, on the nano clock. */
  long idleUntilNanos;
  /**
   * How long the endpoint keeps the connection open while idle, in ns, as its last answer said
   * ({@code Keep-Alive: timeout=N}); else {@link Long#MAX_VALUE}.
   */
  long endpointIdleNanos = Long.MAX_VALUE;
  /** When the connection was opened, on the nano clock. */
  final long openedNanos = System.nanoTime();
  /** Requests the connection was given so far. */
  int requests;
  /** Told when the connection closes (the circuit breaker's connection count), or null. */
  private Handler<Void> closeHandler;
  /** Whether the event loop is handing over what one read brought. */
  private boolean reading;
  /** Whether the connection goes back to the pool once the current read is handled. */
  private boolean releaseAfterRead;
  private final Handler<Void> releaseToPool;
  /** The request this connection carries, or null while idle. */
  private Http1Call call;

  Http1Connection(Http1Upstreams owner, ContextInternal context, Http1Upstreams.EndpointPool pool,
      Channel channel) {
    this.owner = owner;
    this.releaseToPool = v -> owner.released(this, true);
    this.context = context;
    this.pool = pool;
    this.channel = channel;
  }

  /** Gives the connection to {@code next}, which sends its request on it. */
  void assign(Http1Call next) {
    call = next;
    requests++;
    next.attach(this);
  }

  @Override
  public void closeHandler(Handler<Void> handler) {
    closeHandler = handler;
  }

  /**
   * Takes the connection back from {@code done}: to the pool when {@code reusable}, else
   * closed.
   */
  void release(Http1Call done, boolean reusable) {
    if (call != done) {
      return;
    }
    call = null;
    if (!channel.config().isAutoRead()) {
      channel.config().setAutoRead(true); // A paused answer must not leave it deaf.
    }
    if (reusable && reading) {
      // Not before the rest of this read is decoded: an answer nobody asked for, in the same
      // bytes, must find the connection without a request (and close it), not be taken for the
      // answer to the next request.
      releaseAfterRead = true;
      return;
    }
    owner.released(this, reusable);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    reading = true;
    context.dispatch(msg, this);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    reading = false;
    if (releaseAfterRead) {
      releaseAfterRead = false;
      context.dispatch(releaseToPool);
    }
  }

  /** Handles a decoded part of an answer, on the verticle's context. */
  @Override
  public void handle(Object msg) {
    Http1Call current = call;
    if (current == null) {
      // Bytes while idle: not an answer to anything; the connection cannot be trusted.
      ReferenceCountUtil.release(msg);
      channel.close();
      return;
    }
    current.received(msg);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Http1Call current = call;
    if (current != null && channel.isWritable()) {
      context.dispatch(current::writable);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Http1Call current = call;
    if (current != null) {
      context.dispatch(cause, failure -> fail(current, failure));
    }
    channel.close();
  }

  /**
   * Fails {@code current}, which lost the connection. When the connection had carried a request
   * before and no answer to this one had begun, the endpoint closed it while it sat in the pool
   * (a stopped pod, a restart, an idle timeout shorter than ours), and has likely closed the
   * endpoint's other idle connections too, though their closes may not have been read yet: they
   * are taken out of the pool (and closed) first, so that the request's free retry (and the next
   * requests) get a new connection rather than another closed one.
   */
  private void fail(Http1Call current, Throwable cause) {
    if (requests > 1 && !current.answerBegun()) {
      owner.closeIdle(pool);
    }
    current.failed(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    context.dispatch(v -> {
      Http1Call current = call;
      call = null;
      if (current != null) {
        fail(current, new HttpClosedException("Connection was closed"));
      }
      owner.closed(this);
      if (closeHandler != null) {
        closeHandler.handle(null);
      }
    });
  }
}
