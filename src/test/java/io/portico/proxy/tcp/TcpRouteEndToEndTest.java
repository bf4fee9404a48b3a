package io.portico.proxy.tcp;

import io.portico.echo.EchoOptions;
import io.portico.echo.TcpEchoServer;
import io.portico.ir.StreamProtocol;
import io.portico.testing.StreamProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.time.Duration;
import java.net.Socket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.await;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.service;
import static org.assertj.core.api.Assertions.assertThat;

/** TCP listeners with TCPRoutes over real sockets, with the conformance TCP echo backends. */
class TcpRouteEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final int port = TestGateway.freePort();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    await(vertx.close().toCompletionStage().toCompletableFuture());
  }

  private int echo(String pod) {
    return await(TcpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, pod, "default"))
        .toCompletionStage().toCompletableFuture()).port();
  }

  private String gatewayYaml() {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: tcp, protocol: TCP, port: %d}
        ---
        """.formatted(port);
  }

  private static String tcpRoute(String name, String created, String backendRefs) {
    return """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: %s, namespace: default, creationTimestamp: "%s"}
        spec:
          parentRefs: [{name: gw, sectionName: tcp}]
          rules:
          - backendRefs: %s
        ---
        """.formatted(name, created, backendRefs);
  }

  @Test
  void connectionsAreSplitByBackendWeight() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml()
        + tcpRoute("split", "2024-01-01T00:00:00Z",
            "[{name: heavy, port: 3000, weight: 3}, {name: light, port: 3000, weight: 1}]")
        + service("default", "heavy", 3000, echo("heavy-pod"))
        + service("default", "light", 3000, echo("light-pod")));

    Map<String, Integer> pods = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      pods.merge(StreamProbe.tcp(port).pod(), 1, Integer::sum);
    }

    assertThat(pods.keySet()).containsExactlyInAnyOrder("heavy-pod", "light-pod");
    // Smooth weighted round robin per event loop: 3 of every 4 connections of a loop.
    assertThat(pods.get("heavy-pod")).isBetween(26, 34);
  }

  @Test
  void theOldestOfSeveralRoutesOnAListenerGetsTheConnections() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml()
        + tcpRoute("newer", "2024-02-01T00:00:00Z", "[{name: second, port: 3000}]")
        + tcpRoute("older", "2024-01-01T00:00:00Z", "[{name: first, port: 3000}]")
        + service("default", "first", 3000, echo("first-pod"))
        + service("default", "second", 3000, echo("second-pod")));

    for (int i = 0; i < 10; i++) {
      assertThat(StreamProbe.tcp(port).pod()).isEqualTo("first-pod");
    }
  }

  @Test
  void aRefusedBackendReferenceClosesTheConnectionAndIsCounted() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml()
        + tcpRoute("missing", "2024-01-01T00:00:00Z", "[{name: nowhere, port: 3000}]"));

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    TestGateway.awaitCondition("invalid_backend counted", () -> gateway.portico()
        .streamMetrics().total(StreamProtocol.TCP, "invalid_backend") == 1);
  }

  @Test
  void aPortThatTurnsFromHttpToTcpIsTakenOverWithoutRestart() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", httpGatewayYaml(),
        "backend.yaml", service("default", "first", 3000, echo("first-pod"))
            + tcpRoute("route", "2024-01-01T00:00:00Z", "[{name: first, port: 3000}]"));
    assertThat(httpStatusLine()).startsWith("HTTP/1.1 404");
    long version = gateway.tableVersion();

    gateway.replaceFile("gateway.yaml", gatewayYaml());
    gateway.awaitTableAfter(version);

    // The HTTP servers close their listening socket at once (their connections drain for up to
    // 30 s); the TCP server binds it only then, instead of joining the closing socket.
    TestGateway.awaitCondition("the TCP listener serves the port", Duration.ofSeconds(20), () -> {
      try {
        // A connection the HTTP server accepted just before the swap never gets a welcome line.
        return "first-pod".equals(StreamProbe.tcp(port, 500).pod());
      } catch (IOException e) {
        return false;
      }
    });
    for (int i = 0; i < 10; i++) {
      assertThat(StreamProbe.tcp(port).pod()).isEqualTo("first-pod");
    }
  }

  @Test
  void aPortThatTurnsFromTcpToHttpAndBackIsTakenOverWithoutRestart() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "backend.yaml", service("default", "first", 3000, echo("first-pod"))
            + tcpRoute("route", "2024-01-01T00:00:00Z", "[{name: first, port: 3000}]"));
    assertThat(StreamProbe.tcp(port).pod()).isEqualTo("first-pod");

    long version = gateway.tableVersion();
    gateway.replaceFile("gateway.yaml", httpGatewayYaml());
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("the HTTP listener serves the port", Duration.ofSeconds(20),
        () -> httpStatusLine().startsWith("HTTP/1.1 404"));
    for (int i = 0; i < 10; i++) {
      assertThat(httpStatusLine()).startsWith("HTTP/1.1 404");
    }

    version = gateway.tableVersion();
    gateway.replaceFile("gateway.yaml", gatewayYaml());
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("the TCP listener serves the port again", Duration.ofSeconds(20),
        () -> {
          try {
            return "first-pod".equals(StreamProbe.tcp(port, 500).pod());
          } catch (IOException e) {
            return false;
          }
        });
  }

  /** The same Gateway with its listener as HTTP: the TCPRoute does not attach, nothing routes. */
  private String httpGatewayYaml() {
    return gatewayYaml().replace("protocol: TCP", "protocol: HTTP");
  }

  /** The status line Portico answers a GET on the port with, or "" if it does not. */
  private String httpStatusLine() {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(2_000);
      socket.getOutputStream().write(
          "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
              .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readNBytes(12),
          java.nio.charset.StandardCharsets.US_ASCII);
      return answer;
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void aRouteAddedLaterIsServedWithoutRestart() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml()
        + service("default", "first", 3000, echo("first-pod")));
    long version = gateway.tableVersion();

    gateway.replaceFile("route.yaml", tcpRoute("later", "2024-01-01T00:00:00Z",
        "[{name: first, port: 3000}]"));
    gateway.awaitTableAfter(version);

    // The proxies take the published table on their own event loops: wait for the first
    // connection that gets through, then every next one must.
    TestGateway.awaitCondition("a connection reaches first-pod", () -> {
      try {
        return "first-pod".equals(StreamProbe.tcp(port).pod());
      } catch (IOException e) {
        return false;
      }
    });
    assertThat(StreamProbe.tcp(port).pod()).isEqualTo("first-pod");
  }
}
