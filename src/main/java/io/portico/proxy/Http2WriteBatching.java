package io.portico.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Lets the frames that several HTTP/2 streams of one connection write in the same turn of the
 * event loop leave in one TLS record and one {@code sendto}, as nginx and HAProxy send them.
 *
 * <p>Vert.x flushes an HTTP/2 connection after every stream's answer unless that connection is
 * itself reading. A proxy's answers are written while it reads the <em>upstream</em>
 * connections, so with 64 streams over 8 client connections every answer was a record and a
 * system call of its own. Netty's {@link FlushConsolidationHandler}, placed in front of the
 * HTTP/2 codec, turns those flushes into one task that runs after the event loop has handled
 * every ready socket: the answers of that turn go out together, none waits for a later one.
 * HTTP/1.1 connections carry one answer at a time and keep flushing as they write.
 */
final class Http2WriteBatching {

  /** The handler's name in a connection's pipeline. */
  static final String NAME = "portico-http2-write-batching";

  private Http2WriteBatching() {
  }

  /**
   * Installs the batching on {@code connection} when it is an HTTP/2 connection (every upstream
   * client's, see {@link UpstreamConnectionSetup}).
   */
  static void install(HttpConnection connection) {
    if (connection instanceof ConnectionBase base) {
      install(base.channel());
    }
  }

  /** Installs the batching on {@code channel} when its pipeline has an HTTP/2 codec. */
  static void install(Channel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    Http2ConnectionHandler http2 = pipeline.get(Http2ConnectionHandler.class);
    if (http2 == null || pipeline.get(NAME) != null) {
      return;
    }
    pipeline.addBefore(pipeline.context(http2).name(), NAME, new FlushConsolidationHandler(
        FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
  }
}
