package io.portico.proxy;

import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every connection Portico's Vert.x HTTP clients open to an endpoint gets: HTTP/2 write
 * batching (see {@link Http2WriteBatching}) and an exception handler of its own.
 *
 * <p>Vert.x logs a connection's exception itself only when the connection has no handler, and
 * {@link LibraryLogs} counts what it logs there as a client's broken protocol; an upstream
 * connection's failure (an endpoint that breaks HTTP/2, resets) is the endpoint's. Its requests
 * fail with it and are answered and counted as upstream failures; this logs the connection's
 * failure once, naming the endpoint, where Vert.x wrote an error line without it.
 */
final class UpstreamConnectionSetup {

  private static final Logger LOG = LoggerFactory.getLogger(UpstreamConnectionSetup.class);

  private UpstreamConnectionSetup() {
  }

  /** The connect handler of every upstream Vert.x HTTP client. */
  static void connected(HttpConnection connection) {
    Http2WriteBatching.install(connection);
    connection.exceptionHandler(failure -> LOG.warn("upstream connection to {} failed: {}",
        connection.remoteAddress(), Responder.printable(failure)));
  }
}
