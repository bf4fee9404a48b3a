package io.portico.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

/**
 * Joins two connections into a byte tunnel: TCP and TLS routes, TLS handed over to an HTTPS
 * listener, and HTTP connections upgraded to another protocol (WebSocket and the like).
 */
public final class SocketSplice {

  private SocketSplice() {
  }

  /**
   * Relays bytes both ways: a side whose peer cannot keep up is paused until the peer's write
   * queue drains; the end or failure of either side ends the other once what it sent before
   * has been written.
   *
   * @param closed run once when the upstream side has closed
   */
  public static void splice(NetSocket client, NetSocket upstream, Buffer first, Runnable closed) {
    client.exceptionHandler(e -> client.close());
    upstream.exceptionHandler(e -> upstream.close());
    relay(client, upstream, () -> { });
    relay(upstream, client, closed);
    if (first != null && first.length() > 0) {
      upstream.write(first);
    }
    client.resume();
  }

  /**
   * Relays what {@code from} sends to {@code to}, pausing {@code from} while {@code to} cannot
   * take more, and ends {@code to} after the last of it.
   *
   * <p>Vert.x reports a side's close as soon as its connection closes, while bytes it sent may
   * still wait, paused, for the peer to drain; closing the peer then cut them off. It can even
   * report the end before bytes it read and held back during a pause (its connection queues
   * them behind the end when reading resumes; seen through epoll, which reads a closing
   * connection's last bytes while paused): a 12 MB answer to a slow client arrived with 6-10 MB.
   * So a side that has closed is no longer paused (it sends nothing more: what it holds is at
   * most a few reads), and the peer is ended once the end and everything before it has been
   * handed over.
   *
   * @param closed run once when {@code from} has closed
   */
  private static void relay(NetSocket from, NetSocket to, Runnable closed) {
    boolean[] finished = {false};
    from.handler(bytes -> {
      to.write(bytes);
      if (!finished[0] && to.writeQueueFull()) {
        from.pause();
        to.drainHandler(v -> from.resume());
      }
    });
    from.closeHandler(v -> {
      finished[0] = true;
      from.resume();
      closed.run();
    });
    from.endHandler(v -> {
      finished[0] = true;
      from.resume();
      Vertx.currentContext().runOnContext(next -> to.end());
    });
  }
}
