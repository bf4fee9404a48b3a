package io.portico.proxy.tcp;

import io.portico.ir.StreamProtocol;
import io.portico.proxy.PortClaims;
import io.portico.proxy.SocketSplice;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Hands a connection on a port that HTTPS and TLS listeners share, whose SNI name picked an
 * HTTPS listener, to the HTTP proxy's server for that port: it listens on a Unix domain socket
 * ({@link PortClaims#handoffAddress}) and speaks the PROXY protocol, so the connection arrives
 * there as a PROXY v1 header naming the client's and the listener's addresses, then the bytes the
 * client sent (ClientHello first). The HTTP proxy terminates TLS and serves the request exactly
 * as on a port of its own; {@code X-Forwarded-For} names the real client.
 *
 * <p>Why a hop instead of a handler in this process's pipeline: the HTTP server's TLS, ALPN,
 * HTTP/2 and connection limits are Vert.x's own server, which only accepts sockets. What the hop
 * costs is measured in the README (TLS passthrough, TCP and UDP).
 */
final class HttpsHandoff {

  private final NetClient client;
  private final StreamMetrics metrics;

  HttpsHandoff(NetClient client, StreamMetrics metrics) {
    this.client = Objects.requireNonNull(client, "client");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /**
   * Connects {@code socket} (paused, its ClientHello in {@code received}) to the HTTP proxy's
   * server at {@code target} (see {@link PortClaims#handoffAddress}); closes it when that
   * server cannot be reached.
   */
  void handOff(NetSocket socket, SocketAddress target, Buffer received) {
    Buffer header = header(socket.remoteAddress(), socket.localAddress());
    boolean[] clientGone = {false};
    socket.closeHandler(v -> clientGone[0] = true);
    socket.exceptionHandler(e -> socket.close());
    client.connect(target).onComplete(result -> {
      if (result.failed()) {
        // The HTTP proxy is rebinding the port's server (a table moved listeners): closed.
        metrics.count(StreamProtocol.TLS, StreamOutcome.CONNECT_FAILED);
        socket.close();
        return;
      }
      NetSocket server = result.result();
      if (clientGone[0]) {
        server.close();
        return;
      }
      metrics.count(StreamProtocol.TLS, StreamOutcome.HANDED_OFF);
      SocketSplice.splice(socket, server, header.appendBuffer(received), () -> { });
    });
  }

  /**
   * Returns the PROXY protocol v1 header for a connection from {@code client} to
   * {@code listener} (haproxy.org proxy-protocol.txt, section 2.1).
   */
  static Buffer header(SocketAddress client, SocketAddress listener) {
    String family = client.host().contains(":") || listener.host().contains(":")
        ? "TCP6" : "TCP4";
    return Buffer.buffer(("PROXY " + family + " " + client.hostAddress() + " "
        + listener.hostAddress() + " " + client.port() + " " + listener.port() + "\r\n")
        .getBytes(StandardCharsets.US_ASCII));
  }
}
