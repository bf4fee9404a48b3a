package io.portico.echo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.parsetools.RecordParser;

import javax.net.ssl.SSLSession;
import java.util.Objects;

/**
 * Runs a TCP echo backend that behaves like the Gateway API conformance echo server in TCP mode:
 * on connect it sends {@code Gateway API Test TCP Server\n}; then, per line, {@code PING}
 * answers {@code PONG}, {@code IS_TLS} answers {@code true} or {@code false}, {@code TEST}
 * answers one JSON line ({@code namespace}, {@code ingress}, {@code service}, {@code pod},
 * {@code tcpport}, {@code tlsport}, {@code isTLS}, and {@code tls} with the version, SNI
 * {@code serverName} and cipher suite on TLS connections), and any other line is sent back as
 * it came. With {@linkplain EchoOptions#tls() TLS material} the port speaks TLS (1.2 and up).
 */
public final class TcpEchoServer {

  /** The line sent to every new connection. */
  public static final String WELCOME = "Gateway API Test TCP Server";
  /** The longest line read; a longer one closes the connection. */
  private static final int MAX_LINE = 64 * 1024;

  private final NetServer server;

  private TcpEchoServer(NetServer server) {
    this.server = server;
  }

  /** Starts a TCP echo server; {@code h2cOnly} of the options is ignored. */
  public static Future<TcpEchoServer> start(Vertx vertx, EchoOptions options) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    NetServerOptions serverOptions = new NetServerOptions().setTcpNoDelay(true);
    if (options.tls() != null) {
      serverOptions.setSsl(true).setSni(true)
          .setKeyCertOptions(new PemKeyCertOptions()
              .addCertValue(Buffer.buffer(options.tls().certificatePem()))
              .addKeyValue(Buffer.buffer(options.tls().keyPem())));
      serverOptions.getSslOptions().getEnabledSecureTransportProtocols().remove("TLSv1");
      serverOptions.getSslOptions().getEnabledSecureTransportProtocols().remove("TLSv1.1");
    }
    NetServer server = vertx.createNetServer(serverOptions);
    server.connectHandler(socket -> serve(socket, options));
    return server.listen(options.port(), options.host()).map(TcpEchoServer::new);
  }

  private static void serve(NetSocket socket, EchoOptions options) {
    socket.exceptionHandler(e -> socket.close());
    socket.write(WELCOME + "\n");
    RecordParser lines = RecordParser.newDelimited("\n", line -> {
      String text = line.toString().strip();
      switch (text) {
        case "PING" -> socket.write("PONG\n");
        case "IS_TLS" -> socket.write(socket.isSsl() + "\n");
        case "TEST" -> socket.write(describe(socket, options).encode() + "\n");
        default -> socket.write(line.appendString("\n"));
      }
    }).maxRecordSize(MAX_LINE);
    lines.exceptionHandler(e -> socket.close());
    socket.handler(lines);
  }

  private static JsonObject describe(NetSocket socket, EchoOptions options) {
    String port = String.valueOf(socket.localAddress().port());
    JsonObject json = new JsonObject()
        .put("namespace", options.namespace())
        .put("ingress", "")
        .put("service", "")
        .put("pod", options.pod())
        .put("tcpport", socket.isSsl() ? "" : port)
        .put("tlsport", socket.isSsl() ? port : "")
        .put("isTLS", socket.isSsl());
    if (socket.isSsl()) {
      SSLSession session = socket.sslSession();
      json.put("tls", new JsonObject()
          .put("version", session == null ? "" : session.getProtocol())
          .put("serverName", socket.indicatedServerName() == null ? ""
              : socket.indicatedServerName())
          .put("negotiatedProtocol", socket.applicationLayerProtocol() == null ? ""
              : socket.applicationLayerProtocol())
          .put("curves", "")
          .put("cipherSuite", session == null ? "" : session.getCipherSuite()));
    }
    return json;
  }

  /** Returns the port the server is bound to, the chosen one when started with port 0. */
  public int port() {
    return server.actualPort();
  }

  /** Stops listening and closes open connections. */
  public Future<Void> close() {
    return server.close();
  }
}
