package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An upgrade handshake that goes wrong on either side ends cleanly: a client that leaves while
 * the endpoint is still answering gets its upstream connection closed, and an endpoint whose
 * answer carries a header no HTTP message may carry gets the client a 502. (Found by feeding
 * the quickstart mutated requests: both threw on the event loop and left a connection open.)
 */
class UpgradeHandshakeEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final int port = TestGateway.freePort();
  /** Backend connections open now, and closed (by either side) so far. */
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();
  private TestGateway gateway;

  @BeforeEach
  void start() throws Exception {
    NetServer backend = vertx.createNetServer().connectHandler(this::answer);
    int backendPort = backend.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    fleet.serviceAt("default", "upgrades", backendPort, true).service("default", "web", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - matches: [{path: {type: PathPrefix, value: /web}}]
              backendRefs: [{name: web, port: 80}]
            - backendRefs: [{name: upgrades, port: 80}]
            """));
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    TestGateway.awaitCondition("vertx closed", () -> {
      vertx.close();
      return true;
    });
    fleet.close();
  }

  /** /late: 101 half a second after the head; /bad-header: 101 with a control character. */
  private void answer(NetSocket socket) {
    open.incrementAndGet();
    socket.closeHandler(v -> {
      open.decrementAndGet();
      closed.incrementAndGet();
    });
    Buffer head = Buffer.buffer();
    socket.handler(chunk -> {
      head.appendBuffer(chunk);
      String text = head.toString(StandardCharsets.ISO_8859_1);
      if (!text.contains("\r\n\r\n")) {
        return;
      }
      socket.handler(bytes -> { });
      if (text.startsWith("GET /late ")) {
        vertx.setTimer(500, id -> socket.write(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"));
      } else {
        socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n"
            + "X-Bad: a\u0001b\r\n\r\n");
      }
    });
  }

  /** Reads one answer with a Content-Length body (the connection may stay open after it). */
  private static String readAnswer(InputStream in) throws IOException {
    StringBuilder text = new StringBuilder();
    int headEnd;
    while ((headEnd = text.indexOf("\r\n\r\n")) < 0) {
      int b = in.read();
      if (b < 0) {
        return text.toString();
      }
      text.append((char) b);
    }
    java.util.regex.Matcher length = java.util.regex.Pattern
        .compile("(?i)content-length: *(\\d+)").matcher(text);
    int body = length.find() ? Integer.parseInt(length.group(1)) : 0;
    text.append(new String(in.readNBytes(body), StandardCharsets.ISO_8859_1));
    return text.toString();
  }

  private static String upgrade(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\n"
        + "Upgrade: x\r\n\r\n";
  }

  @Test
  void clientLeavingBeforeTheEndpointsAnswerClosesTheUpstreamConnection() throws IOException {
    for (int i = 0; i < 3; i++) {
      try (Socket client = new Socket("127.0.0.1", port)) {
        client.getOutputStream().write(upgrade("/late").getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
        int connected = i + 1;
        TestGateway.awaitCondition("the endpoint got the handshake",
            () -> open.get() + closed.get() == connected);
        if (i % 2 == 0) {
          client.shutdownOutput(); // half-closed: the gateway sees the end of its input
        }
      } // closed before the endpoint's 101 (sent 500 ms after the head)
    }
    TestGateway.awaitCondition("every upstream connection closed", () -> open.get() == 0);
    assertThat(closed.get()).isEqualTo(3);
    assertThat(probe.get(port, "app.example.com", "/web").pod()).isEqualTo("web-pod-0");
  }

  @Test
  void endpointAnsweringWithAnInvalidHeaderGets502() throws IOException {
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write(upgrade("/bad-header").getBytes(StandardCharsets.US_ASCII));
      client.getOutputStream().flush();
      String answer = readAnswer(client.getInputStream());
      assertThat(answer).startsWith("HTTP/1.1 502").contains("invalid header")
          .doesNotContain("X-Bad");
    }
    TestGateway.awaitCondition("the upstream connection closed", () -> open.get() == 0);
    assertThat(probe.get(port, "app.example.com", "/web").pod()).isEqualTo("web-pod-0");
  }
}
