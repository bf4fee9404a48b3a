package io.portico.echo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.json.JsonObject;

import java.util.Objects;

/**
 * Runs a UDP echo backend that behaves like the Gateway API conformance UDP echo server: for
 * every datagram it sends one datagram back to the sender, from the listening port, holding the
 * JSON object {@code {"request": <payload>, "namespace", "ingress": "", "service", "pod"}}.
 * No state is kept between datagrams.
 */
public final class UdpEchoServer {

  /** The longest payload read from one datagram, as the conformance server reads. */
  public static final int MAX_PAYLOAD = 1024;

  private final DatagramSocket socket;

  private UdpEchoServer(DatagramSocket socket) {
    this.socket = socket;
  }

  /**
   * Starts a UDP echo server on {@code options.host()}:{@code options.port()} reporting
   * {@code service} as its Service name; TLS and h2c settings of the options are ignored.
   */
  public static Future<UdpEchoServer> start(Vertx vertx, EchoOptions options, String service) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    DatagramSocket socket = vertx.createDatagramSocket(new DatagramSocketOptions());
    socket.handler(packet -> {
      String payload = packet.data().length() > MAX_PAYLOAD
          ? packet.data().getString(0, MAX_PAYLOAD) : packet.data().toString();
      JsonObject reply = new JsonObject()
          .put("request", payload)
          .put("namespace", options.namespace())
          .put("ingress", "")
          .put("service", service == null ? "" : service)
          .put("pod", options.pod());
      socket.send(reply.toBuffer(), packet.sender().port(), packet.sender().host());
    });
    return socket.listen(options.port(), options.host()).map(UdpEchoServer::new);
  }

  /** Returns the port the server is bound to, the chosen one when started with port 0. */
  public int port() {
    return socket.localAddress().port();
  }

  public Future<Void> close() {
    return socket.close();
  }
}
