package io.portico.proxy;

import io.portico.proxy.upstream.UpstreamCall;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.WriteStream;

/**
 * A copy of a request body, kept as it streams to the first attempt: for the retries of a gRPC
 * call (Portico otherwise never re-sends a body; a gRPC call always has one, and its retry
 * triggers such as {@code unavailable} would be dead letters without a copy), and for the
 * rule's mirrors, which get the body once the client has sent all of it. As Envoy, which
 * buffers a request for its retries up to a limit, the copy is bounded: past {@value #LIMIT}
 * bytes it is dropped, and the request is neither retried once its body has left nor
 * mirrored. Confined to the request's event loop.
 */
final class ReplayBody {

  /** The largest body kept for a retry, in bytes (a unary call's message is usually far less). */
  static final int LIMIT = 64 * 1024;

  private final boolean forRetries;
  private Buffer copy = Buffer.buffer();
  private boolean complete;
  private Handler<Buffer> whenComplete;

  /** @param forRetries whether the copy may be sent again (a gRPC call under a retry policy) */
  ReplayBody(boolean forRetries) {
    this.forRetries = forRetries;
  }

  /** Whether the copy may be sent again by a retry, not only to mirrors. */
  boolean forRetries() {
    return forRetries;
  }

  /** Calls {@code handler} with the whole body once the client has sent it (not if too large). */
  void whenComplete(Handler<Buffer> handler) {
    whenComplete = handler;
  }

  /**
   * Whether the whole body was copied: the client ended it within {@link #LIMIT} bytes. Only then
   * can another attempt send it.
   */
  boolean complete() {
    return complete && copy != null;
  }

  /** The copied body; only when {@link #complete()}. */
  Buffer body() {
    return copy;
  }

  /** Returns a stream that writes to {@code upstream} and keeps a copy of what it writes. */
  WriteStream<Buffer> copying(UpstreamCall upstream) {
    return new WriteStream<>() {
      @Override
      public WriteStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        upstream.exceptionHandler(handler);
        return this;
      }

      @Override
      public Future<Void> write(Buffer data) {
        keep(data);
        return upstream.write(data);
      }

      @Override
      public Future<Void> end() {
        complete = true;
        if (copy != null && whenComplete != null) {
          whenComplete.handle(copy);
        }
        return upstream.end();
      }

      @Override
      public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
        upstream.setWriteQueueMaxSize(maxSize);
        return this;
      }

      @Override
      public boolean writeQueueFull() {
        return upstream.writeQueueFull();
      }

      @Override
      public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
        upstream.drainHandler(handler);
        return this;
      }
    };
  }

  private void keep(Buffer data) {
    if (copy == null) {
      return;
    }
    if (copy.length() + data.length() > LIMIT) {
      copy = null; // Too large to replay: let it go rather than hold it for nothing.
      return;
    }
    copy.appendBuffer(data);
  }
}
