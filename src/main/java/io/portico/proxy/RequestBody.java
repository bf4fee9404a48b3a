package io.portico.proxy;

import io.netty.handler.codec.DecoderException;
import io.portico.proxy.upstream.UpstreamCall;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.streams.WriteStream;

/**
 * Streams a client's request body upstream with back-pressure. A body that fails half-way (a
 * malformed chunk, a bare LF, an invalid chunk size, a client reset) resets the upstream exchange
 * at once: it is never ended as if complete (a backend would act on a truncated body), nor left
 * open until the upstream timeout (a backend connection held per bad request). A malformed body
 * gets 400 with {@code Connection: close} when nothing was answered yet (RFC 9112 7.1).
 */
final class RequestBody {

  /** HTTP/2 CANCEL: the client-side stream is gone, the upstream one is abandoned with it. */
  private static final long CANCEL = 0x8;

  private RequestBody() {
  }

  /**
   * Watches {@code request}'s body while its upstream exchange is not started yet (waiting for a
   * connection): a malformed body is answered at once; the exchange, once it has its
   * connection, sees the answered response and gives the stream back.
   */
  static void watch(HttpServerRequest request, Responder responder) {
    request.exceptionHandler(cause -> failed(request, null, cause, responder));
  }

  /** Streams {@code request}'s body to {@code upstream} and ends it once the body is complete. */
  static void stream(HttpServerRequest request, UpstreamCall upstream, Responder responder) {
    stream(request, upstream, upstream, responder);
  }

  /**
   * Streams {@code request}'s body through {@code destination}, which writes to
   * {@code upstream} (a {@link ReplayBody} copying it on the way).
   */
  static void stream(HttpServerRequest request, WriteStream<Buffer> destination,
      UpstreamCall upstream, Responder responder) {
    request.pipe().endOnFailure(false).to(destination)
        .onFailure(cause -> failed(request, upstream, cause, responder));
  }

  private static void failed(HttpServerRequest request, UpstreamCall upstream,
      Throwable cause, Responder responder) {
    // Answered first: the reset below fails the attempt, whose 502 must not win.
    if (isMalformed(cause)) {
      responder.refuse(request, UpstreamFailure.BAD_REQUEST,
          "malformed request body (" + cause.getClass().getSimpleName() + ")");
    }
    if (upstream != null) {
      upstream.exceptionHandler(e -> { }); // The reset is ours: nothing to report.
      upstream.reset(CANCEL, cause);
    }
  }

  /**
   * Whether {@code cause} is Netty's decoder refusing the body's framing (chunk size, chunk
   * delimiter, chunk extension, line separator), rather than a connection or upstream failure.
   */
  static boolean isMalformed(Throwable cause) {
    return cause instanceof DecoderException || cause instanceof IllegalArgumentException;
  }
}
