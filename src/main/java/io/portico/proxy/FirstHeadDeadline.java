package io.portico.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The request-headers deadline of a cleartext connection until Vert.x has made it an HTTP
 * connection. On a cleartext port Vert.x must first tell HTTP/1.1 from h2c and builds the
 * connection only once the first request head is complete, so {@link ClientConnections} cannot
 * time that head: this handler, first in the pipeline (see {@link ProxyTransport}), does. It
 * is removed when {@link ClientConnections} takes the connection over. Past the deadline, a
 * client that sent part of a head gets {@code 408} and the connection is closed (as a later head
 * would; the same answer and count, see {@link Responder#requestHeaderTimeout}); one that sent
 * nothing is closed without an answer.
 */
final class FirstHeadDeadline extends ChannelInboundHandlerAdapter {

  /** Its name in the pipeline. */
  static final String NAME = "portico-first-head";

  private final long timeoutMillis;
  private ScheduledFuture<?> timer;
  private boolean received;

  FirstHeadDeadline(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      arm(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    arm(ctx);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    received = true;
    super.channelRead(ctx, msg);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void arm(ChannelHandlerContext ctx) {
    if (timer == null) {
      timer = ctx.executor().schedule(() -> expire(ctx), timeoutMillis, TimeUnit.MILLISECONDS);
    }
  }

  private void expire(ChannelHandlerContext ctx) {
    timer = null;
    if (ctx.isRemoved() || !ctx.channel().isActive()) {
      return;
    }
    if (!received) {
      ctx.close();
      return;
    }
    ProxyMetrics.countOutsideVerticle(UpstreamFailure.REQUEST_HEADER_TIMEOUT);
    // First in the pipeline: these bytes go to the socket as they are.
    ctx.writeAndFlush(Unpooled.wrappedBuffer(Responder.requestHeaderTimeoutBytes()))
        .addListener(ChannelFutureListener.CLOSE);
  }
}
