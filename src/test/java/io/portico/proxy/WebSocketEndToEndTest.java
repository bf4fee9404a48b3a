package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestGateway;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/** WebSocket upgrades pass through the gateway and become a tunnel both ways. */
class WebSocketEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private TestGateway gateway;
  private final int port = TestGateway.freePort();

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void webSocketMessagesTravelBothWaysThroughTheGateway() throws Exception {
    HttpServer backend = vertx.createHttpServer()
        .webSocketHandler(socket -> socket.textMessageHandler(
            text -> socket.writeTextMessage("echo:" + text + ":" + socket.headers().get("host"))))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    fleet.serviceAt("default", "ws", backend.actualPort(), true);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - matches: [{path: {type: PathPrefix, value: /ws}}]
              backendRefs: [{name: ws, port: 80}]
            """));

    Promise<String> reply = Promise.promise();
    vertx.runOnContext(v -> vertx.createWebSocketClient()
        .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/ws/chat").addHeader("Host", "app.example.com"))
        .onFailure(reply::tryFail)
        .onSuccess(socket -> {
          socket.textMessageHandler(reply::tryComplete);
          socket.writeTextMessage("hello");
        }));

    assertThat(reply.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isEqualTo("echo:hello:app.example.com");
  }

  /**
   * WebSocket extensions are agreed between the client and the backend: the gateway passes the
   * client's offer and the backend's answer through and takes no part, so a backend without
   * compression is never sent compressed frames because the gateway accepted permessage-deflate.
   */
  @Test
  void extensionsAreLeftToTheBackend() throws Exception {
    HttpServer backend = vertx.createHttpServer(new HttpServerOptions()
            .setPerMessageWebSocketCompressionSupported(false)
            .setPerFrameWebSocketCompressionSupported(false))
        .webSocketHandler(socket -> socket.textMessageHandler(
            text -> socket.writeTextMessage("echo:" + text)))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    fleet.serviceAt("default", "ws", backend.actualPort(), true);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - matches: [{path: {type: PathPrefix, value: /ws}}]
              backendRefs: [{name: ws, port: 80}]
            """));

    String head;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET /ws/chat HTTP/1.1\r\nHost: app.example.com\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n"
          + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      head = readHead(socket.getInputStream());
    }
    assertThat(head).startsWith("HTTP/1.1 101");
    assertThat(head.toLowerCase()).doesNotContain("sec-websocket-extensions");

    // A client that asks for compression gets none, and its messages reach the backend.
    Promise<String> reply = Promise.promise();
    vertx.runOnContext(v -> vertx.createWebSocketClient(new WebSocketClientOptions()
            .setTryUsePerMessageCompression(true).setTryUsePerFrameCompression(true))
        .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/ws/chat").addHeader("Host", "app.example.com"))
        .onFailure(reply::tryFail)
        .onSuccess(socket -> {
          socket.textMessageHandler(reply::tryComplete);
          socket.closeHandler(closed -> reply.tryFail("closed: " + socket.closeStatusCode()));
          socket.writeTextMessage("hello hello hello hello");
        }));
    assertThat(reply.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS))
        .isEqualTo("echo:hello hello hello hello");
  }

  private static String readHead(InputStream in) throws Exception {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.append((char) b);
    }
    return head.toString();
  }
}
