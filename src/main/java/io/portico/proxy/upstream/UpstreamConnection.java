package io.portico.proxy.upstream;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;

/**
 * The connection an attempt went out on, as the proxy's RuleConnections counts a rule's
 * connections against {@code circuitBreaker.maxConnections}: equal for the same connection,
 * and telling when it closes.
 */
public interface UpstreamConnection {

  /** Runs {@code handler} once the connection has closed (replacing any earlier one). */
  void closeHandler(Handler<Void> handler);

  /** A connection of Vert.x's client (equal when the connection is the same). */
  record OfVertx(HttpConnection connection) implements UpstreamConnection {

    @Override
    public void closeHandler(Handler<Void> handler) {
      connection.closeHandler(handler);
    }
  }
}
