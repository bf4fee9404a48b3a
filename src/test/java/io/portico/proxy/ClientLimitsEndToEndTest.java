package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.RawHttp2;
import io.portico.testing.RecordingBackend;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static io.portico.proxy.StrictFramingEndToEndTest.ascii;
import static io.portico.proxy.StrictFramingEndToEndTest.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Client connection limits over real sockets, with short configured timeouts: a slowloris gets
 * 408 and is closed, an idle keep-alive connection is closed, a busy one is not, and a listener
 * holds at most its connection limit. Tests wait for the gateway to close, never on sleeps.
 */
class ClientLimitsEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final RecordingBackend hold = new RecordingBackend();
  private TestGateway gateway;
  private int port;
  private int adminPort;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    hold.close();
    fleet.close();
  }

  private void serve(ClientLimits limits, int upstreamTimeoutMillis) {
    port = TestGateway.freePort();
    adminPort = TestGateway.freePort();
    fleet.service("default", "web", 1).serviceAt("default", "hold", hold.port(), true);
    gateway = TestGateway.start(directory, options -> options
            .withProxy(options.proxy().withClient(limits)
                .withUpstreamIdleTimeoutMillis(upstreamTimeoutMillis))
            .withMetrics(true).withAdmin("127.0.0.1", adminPort),
        "gateway.yaml", gatewayYaml(port), "backends.yaml", fleet.yaml(),
        "routes.yaml", route("app", "app.example.com", """
            - matches: [{path: {type: PathPrefix, value: /hold}}]
              backendRefs: [{name: hold, port: 80}]
            - backendRefs: [{name: web, port: 80}]
            """));
  }

  @Test
  void slowlorisGets408AndIsClosedWhileOthersAreServed() throws Exception {
    serve(ClientLimits.DEFAULTS.withRequestHeadersTimeoutMillis(500), 15_000);
    AtomicBoolean open = new AtomicBoolean(true);
    try (Socket slow = new Socket("127.0.0.1", port)) {
      slow.setSoTimeout(20_000);
      OutputStream out = slow.getOutputStream();
      // A first request, answered; then the next head one byte at a time, never complete.
      out.write(ascii("GET /first HTTP/1.1\r\nHost: app.example.com\r\n\r\n"));
      out.flush();
      drip(out, "/second", open);
      // Others are served meanwhile.
      assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("web-pod-0");
      String answer = readAll(slow.getInputStream());
      open.set(false);
      assertThat(answer).startsWith("HTTP/1.1 200");
      assertThat(answer.substring(answer.indexOf("HTTP/1.1 200") + 1)).contains("HTTP/1.1 408")
          .containsIgnoringCase("connection: close")
          .contains("x-portico-failure: request_header_timeout");
    }
    // A client that connects and sends nothing is closed without an answer.
    try (Socket silent = new Socket("127.0.0.1", port)) {
      silent.setSoTimeout(20_000);
      assertThat(readAll(silent.getInputStream())).isEmpty();
    }
    assertThat(hold.connections()).isEmpty();
  }

  @Test
  void aFirstHeadDrippedByteByByteGets408WhileOthersAreServed() throws Exception {
    serve(ClientLimits.DEFAULTS.withRequestHeadersTimeoutMillis(500), 15_000);
    AtomicBoolean open = new AtomicBoolean(true);
    try (Socket slow = new Socket("127.0.0.1", port)) {
      slow.setSoTimeout(20_000);
      OutputStream out = slow.getOutputStream();
      // The very first head of a cleartext connection, one byte every 50 ms: Vert.x has no
      // HTTP connection for it until the head is complete, the deadline applies all the same.
      drip(out, "/first", open);
      assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("web-pod-0");
      String answer = readAll(slow.getInputStream());
      open.set(false);
      assertThat(answer).startsWith("HTTP/1.1 408").containsIgnoringCase("connection: close")
          .contains("x-portico-failure: request_header_timeout")
          .endsWith("\r\n\r\nrequest header timeout\n");
    }
    assertThat(hold.connections()).isEmpty();
    assertThat(metrics()).containsPattern(
        "portico_requests_total\\{[^}]*outcome=\"request_header_timeout\"[^}]*\\} 1\\.0");
  }

  /**
   * Sends a request head for {@code path} one byte every 50 ms, never completing it, on a
   * thread of its own until the gateway cuts it off or {@code open} turns false.
   */
  private static void drip(OutputStream out, String path, AtomicBoolean open) {
    byte[] head = ascii("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\nX-Pad: "
        + "a".repeat(400));
    Thread drip = new Thread(() -> {
      try {
        for (byte b : head) {
          if (!open.get()) {
            return;
          }
          out.write(b);
          out.flush();
          Thread.sleep(50);
        }
      } catch (IOException | InterruptedException closed) {
        // The gateway cut it off.
      }
    });
    drip.setDaemon(true);
    drip.start();
  }

  @Test
  void idleKeepAliveConnectionIsClosedButABusyOneIsNot() throws Exception {
    serve(ClientLimits.DEFAULTS.withIdleTimeoutMillis(300), 2_000);
    try (Socket idle = new Socket("127.0.0.1", port)) {
      idle.setSoTimeout(20_000);
      idle.getOutputStream().write(ascii("GET /a HTTP/1.1\r\nHost: app.example.com\r\n\r\n"));
      idle.getOutputStream().flush();
      String answer = readAll(idle.getInputStream()); // returns once the gateway closes
      assertThat(answer).startsWith("HTTP/1.1 200").doesNotContain("HTTP/1.1 408");
    }
    // A request whose backend stays silent longer than the idle timeout is no idle connection:
    // it ends with the upstream timeout's 504, not a closed connection.
    try (Socket busy = new Socket("127.0.0.1", port)) {
      busy.setSoTimeout(20_000);
      busy.getOutputStream().write(ascii("GET /hold/slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n"));
      busy.getOutputStream().flush();
      String answer = readAll(busy.getInputStream());
      assertThat(answer).startsWith("HTTP/1.1 504");
    }
  }

  @Test
  void idleHttp2ConnectionIsClosed() throws Exception {
    serve(ClientLimits.DEFAULTS.withIdleTimeoutMillis(300), 15_000);
    try (RawHttp2 h2 = new RawHttp2(port)) {
      h2.headers(1, "GET", "app.example.com", "/h2-idle", true).flush();
      // Served, then no stream for longer than the idle timeout: GOAWAY and close.
      assertThat(h2.awaitRefusal(1)).isIn("GOAWAY", "CLOSED");
    }
    assertThat(fleet.servers().get(0).receivedUris()).contains("/h2-idle");
  }

  @Test
  void http2ConnectionPastItsMaximumAgeIsToldToGoAway() throws Exception {
    serve(ClientLimits.DEFAULTS.withHttp2MaxConnectionAgeMillis(300), 15_000);
    try (RawHttp2 h2 = new RawHttp2(port)) {
      h2.headers(1, "GET", "app.example.com", "/h2-old", true).flush();
      assertThat(h2.awaitRefusal(1)).isEqualTo("GOAWAY");
    }
  }

  @Test
  void connectionsBeyondTheListenersLimitAreRefusedAndCounted() throws Exception {
    serve(ClientLimits.DEFAULTS.withConnectionLimit(2), 15_000);
    try (Socket first = new Socket("127.0.0.1", port);
         Socket second = new Socket("127.0.0.1", port)) {
      for (Socket socket : new Socket[] {first, second}) {
        socket.setSoTimeout(20_000);
        socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n"));
        socket.getOutputStream().flush();
        assertThat(readHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
      }
      try (Socket third = new Socket("127.0.0.1", port)) {
        third.setSoTimeout(20_000);
        third.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: app.example.com\r\n\r\n"));
        assertThat(readAll(third.getInputStream())).isEmpty();
      }
      assertThat(metrics()).containsPattern("portico_client_connections_refused_total(\\{[^}]*\\})? 1\\.0");
    }
    // Once they close, their places are free again.
    TestGateway.awaitCondition("a connection admitted again", () -> {
      try {
        return probe.get(port, "app.example.com", "/").status() == 200;
      } catch (AssertionError refused) {
        return false;
      }
    });
  }

  private String metrics() {
    return new HttpProbe().get(adminPort, "127.0.0.1", "/metrics").body();
  }

  /** Reads one response head (the echo answers are small: one read holds them). */
  private static String readHead(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    int n = in.read(buffer);
    return n < 0 ? "" : new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
  }
}
