package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestGateway;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
}
