package io.portico.proxy;

import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Tells whether an HTTP/2 request's HEADERS frame carried END_STREAM, i.e. the request has no
 * body (RFC 9113 8.1). Vert.x calls the request handler before it delivers the end of the
 * stream, so {@code isEnded()} is still false there for a body-less GET; the stream itself was
 * created half-closed, and that flag is read here (two field reads, no allocation). Vert.x has
 * no public accessor for it: if a Vert.x upgrade moves the field, the fallback
 * ({@code !isEnded()}, the old behaviour) is logged once and the unit test fails.
 */
final class Http2EndOfStream {

  private static final Logger LOG = LoggerFactory.getLogger(Http2EndOfStream.class);

  private static final Class<?> REQUEST_CLASS;
  private static final VarHandle STREAM;
  private static final VarHandle HALF_CLOSED_REMOTE;

  static {
    Class<?> requestClass = null;
    VarHandle stream = null;
    VarHandle halfClosed = null;
    try {
      requestClass = Class.forName("io.vertx.core.http.impl.Http2ServerRequest");
      Class<?> streamClass = Class.forName("io.vertx.core.http.impl.Http2ServerStream");
      stream = MethodHandles.privateLookupIn(requestClass, MethodHandles.lookup())
          .findVarHandle(requestClass, "stream", streamClass);
      halfClosed = MethodHandles.privateLookupIn(streamClass, MethodHandles.lookup())
          .findVarHandle(streamClass, "halfClosedRemote", boolean.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot read HTTP/2 END_STREAM from Vert.x ({}): body-less HTTP/2 requests are"
          + " forwarded as streamed", e.toString());
      requestClass = null;
    }
    REQUEST_CLASS = requestClass;
    STREAM = stream;
    HALF_CLOSED_REMOTE = halfClosed;
  }

  private Http2EndOfStream() {
  }

  /** Whether the client has sent all of {@code request} (an HTTP/2 one) already. */
  static boolean ended(HttpServerRequest request) {
    if (request.isEnded()) {
      return true;
    }
    if (REQUEST_CLASS == null || request.getClass() != REQUEST_CLASS) {
      return false;
    }
    // Read on the connection's event loop, which is the only one that writes it. The stream is
    // also half-closed once a DATA frame with END_STREAM has arrived behind the HEADERS in the
    // same read (a gRPC client sends its one message so): then bytes were read, and the request
    // has a body that is merely queued (bytesRead counts arrival, not delivery).
    return (boolean) HALF_CLOSED_REMOTE.get(STREAM.get(request)) && request.bytesRead() == 0;
  }

  /** Whether END_STREAM can be read (false: the fallback is in use). */
  static boolean available() {
    return REQUEST_CLASS != null;
  }
}
