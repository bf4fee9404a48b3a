package io.portico.proxy;

import io.portico.proxy.ProxyOptions;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.RecordingBackend;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/1.1 framing per RFC 9112 over raw sockets: each malformed message gets its status with
 * {@code Connection: close}, what reached a backend is asserted, and another client is served
 * right after. The {@code /hold} backend records and never answers, so an upstream exchange left
 * open would stay open until the (long) upstream timeout; a reset one is seen closed at once.
 */
class StrictFramingEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final RecordingBackend hold = new RecordingBackend();
  private TestGateway gateway;
  private int port;

  @BeforeEach
  void start() {
    port = TestGateway.freePort();
    fleet.service("default", "web", 1).service("default", "other", 1)
        .serviceAt("default", "hold", hold.port(), true);
    // An upstream timeout far beyond any wait of these tests: only a reset frees /hold.
    gateway = TestGateway.start(directory,
        ProxyOptions.DEFAULTS.withUpstreamIdleTimeoutMillis(300_000),
        "gateway.yaml", gatewayYaml(port), "backends.yaml", fleet.yaml(),
        "routes.yaml", route("app", "app.example.com", """
            - matches: [{path: {type: PathPrefix, value: /hold}}]
              backendRefs: [{name: hold, port: 80}]
            - backendRefs: [{name: web, port: 80}]
            """) + "---\n" + route("other", "other.example.com", """
            - backendRefs: [{name: other, port: 80}]
            """));
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    hold.close();
    fleet.close();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bad chunk delimiter | 3\\r\\ndefXX0\\r\\n\\r\\n",
      "bare LF chunk line  | 3\\ndef\\r\\n0\\r\\n\\r\\n",
      "invalid chunk size  | zz\\r\\ndef\\r\\n0\\r\\n\\r\\n",
      "negative chunk size | -3\\r\\ndef\\r\\n0\\r\\n\\r\\n",
  })
  void malformedChunkAfterForwardingGets400AndTheUpstreamIsResetAtOnce(String name, String body)
      throws IOException {
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(10_000);
      OutputStream out = client.getOutputStream();
      out.write(ascii("POST /hold/upload HTTP/1.1\r\nHost: app.example.com\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));
      out.flush();
      // The exchange is under way: the backend has the head and the first chunk.
      TestGateway.awaitCondition("the backend received the first chunk",
          () -> hold.received().contains("POST /hold/upload") && hold.received().contains("abc"));
      out.write(ascii(unescape(body)));
      out.flush();
      String answer = readAll(client.getInputStream());
      assertThat(answer).startsWith("HTTP/1.1 400").containsIgnoringCase("connection: close");
    }
    // The upstream exchange is reset at once, not held until the upstream timeout, and the
    // backend never saw the body completed.
    TestGateway.awaitCondition("the backend connection closed",
        () -> hold.connections().stream().allMatch(RecordingBackend.Connection::closed));
    assertThat(hold.received()).doesNotContain("0\r\n\r\n");
    assertThat(probe.get(port, "other.example.com", "/").pod()).isEqualTo("other-pod-0");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bad chunk delimiter | 3\\r\\nabcXX0\\r\\n\\r\\n",
      "bare LF chunk line  | 3\\nabc\\r\\n0\\r\\n\\r\\n",
      "invalid chunk size  | zz\\r\\nabc\\r\\n0\\r\\n\\r\\n",
      "overflowing size    | fffffffffffff\\r\\nabc\\r\\n0\\r\\n\\r\\n",
  })
  void malformedChunkInTheFirstPacketGets400(String name, String body) throws IOException {
    String answer = raw("POST /hold/at-once HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n" + unescape(body));
    assertThat(answer).startsWith("HTTP/1.1 400").containsIgnoringCase("connection: close");
    TestGateway.awaitCondition("every backend connection closed",
        () -> hold.connections().stream().allMatch(RecordingBackend.Connection::closed));
    assertThat(hold.received()).doesNotContain("0\r\n\r\n");
    assertThat(probe.get(port, "other.example.com", "/").pod()).isEqualTo("other-pod-0");
  }

  @ParameterizedTest(name = "Transfer-Encoding: {0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "identity, chunked | 501",
      "gzip, chunked     | 501",
      "gzip              | 400",
      "chunked, gzip     | 400",
      "chunked, chunked  | 400",
      "identity          | 400",
  })
  void transferCodingsOtherThanOneFinalChunkedAreRefused(String codings, int status)
      throws IOException {
    String answer = raw("POST /hold/te HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Transfer-Encoding: " + codings + "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 " + status)
        .containsIgnoringCase("connection: close");
    assertThat(hold.connections()).isEmpty();
    assertThat(probe.get(port, "other.example.com", "/").pod()).isEqualTo("other-pod-0");
  }

  @Test
  void transferEncodingSplitOverTwoFieldsIsRefused() throws IOException {
    String answer = raw("POST /hold/te HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 501").containsIgnoringCase("connection: close");
    assertThat(hold.connections()).isEmpty();
  }

  @Test
  void aWellFormedChunkedBodyStillReachesTheBackend() throws IOException {
    String answer = raw("POST /echo HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"pod\":\"web-pod-0\"");
  }

  @Test
  void absoluteFormAuthorityWinsOverTheHostHeader() throws IOException {
    String answer = raw("GET http://other.example.com/x?y=1 HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"pod\":\"other-pod-0\"")
        .contains("\"path\":\"/x?y=1\"");
    // The backend gets the target's authority as its Host.
    assertThat(answer).contains("\"host\":\"other.example.com\"");
    String bad = raw("GET http://user@other.example.com/x HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(bad).startsWith("HTTP/1.1 400").doesNotContain("pod-0");
  }

  /**
   * Hosts Vert.x's authority parser throws on (a '%' not followed by two hex digits) and hosts
   * it refuses: each a 400 that names what is wrong, none an exception on the event loop.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "Host: app.exa%00mple.com                         | GET /x            | Host header",
      "Host: app.example%.com                           | GET /x            | Host header",
      "Host: app example.com                            | GET /x            | Host header",
      "Host: app.example.com                            | GET http://a%00b/x | request target",
      "Host: app.example.com                            | GET http://a%.b/x  | request target",
  })
  void malformedAuthoritiesGet400NamingWhatIsWrong(String host, String requestLine,
      String named) throws IOException {
    String answer = raw(requestLine + " HTTP/1.1\r\n" + host.strip() + "\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 400").contains(named).doesNotContain("pod-0");
    assertThat(raw("GET /x HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n"))
        .startsWith("HTTP/1.1 200");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "Content-Length + Transfer-Encoding",
      "two Content-Lengths",
      "NUL in a header value",
      "bare CR in a header value",
      "space before the colon",
      "two Host headers",
      "no Host header",
  })
  void smugglingShapesAreRefusedWithConnectionClose(String shape) throws IOException {
    String head = switch (shape) {
      case "Content-Length + Transfer-Encoding" -> "Host: app.example.com\r\nContent-Length: 4\r\n"
          + "Transfer-Encoding: chunked\r\n";
      case "two Content-Lengths" -> "Host: app.example.com\r\nContent-Length: 4\r\n"
          + "Content-Length: 5\r\n";
      case "NUL in a header value" -> "Host: app.example.com\r\nX-A: a\0b\r\n";
      case "bare CR in a header value" -> "Host: app.example.com\r\nX-A: a\rb\r\n";
      case "space before the colon" -> "Host: app.example.com\r\nContent-Length : 4\r\n";
      case "two Host headers" -> "Host: app.example.com\r\nHost: other.example.com\r\n";
      case "no Host header" -> "X-A: a\r\n";
      default -> throw new IllegalArgumentException(shape);
    };
    String answer = raw("POST /hold/smuggle HTTP/1.1\r\n" + head
        + "\r\n0\r\n\r\nGET /hold/smuggled HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
    // Vert.x may count some of these as a 400 on the head, the proxy the others: all close.
    assertThat(answer).startsWith("HTTP/1.1 400").containsIgnoringCase("connection: close")
        .doesNotContain("HTTP/1.1 200");
    assertThat(hold.connections()).isEmpty();
    assertThat(probe.get(port, "other.example.com", "/").pod()).isEqualTo("other-pod-0");
  }

  @Test
  void obsFoldIsReplacedBySpaceAsRfc9112Allows() throws IOException {
    // RFC 9112 5.2: reject with 400 or replace each obs-fold by SP; Netty does the latter, so
    // the backend sees one header value and one request.
    String answer = raw("GET /fold HTTP/1.1\r\nHost: app.example.com\r\nX-A: a\r\n b\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(answer).startsWith("HTTP/1.1 200").contains("\"X-A\":[\"a b\"]");
  }

  @Test
  void oversizedUriAndHeadersGet414And431() throws IOException {
    String uri = raw("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: app.example.com\r\n\r\n");
    assertThat(uri).containsPattern("^HTTP/1\\.[01] 414").containsIgnoringCase("connection: close");
    String headers = raw("GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Big: "
        + "b".repeat(9000) + "\r\n\r\n");
    assertThat(headers).startsWith("HTTP/1.1 431").containsIgnoringCase("connection: close");
    assertThat(hold.connections()).isEmpty();
    assertThat(probe.get(port, "other.example.com", "/").pod()).isEqualTo("other-pod-0");
  }

  static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String unescape(String csv) {
    return csv.replace("\\r", "\r").replace("\\n", "\n");
  }

  /** Sends {@code request} on a new connection and returns everything the gateway answers. */
  private String raw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(ascii(request));
      socket.getOutputStream().flush();
      return readAll(socket.getInputStream());
    }
  }

  /** Reads until the gateway closes the connection (a reset after the answer is fine). */
  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (SocketException reset) {
      // What arrived before the reset is the answer.
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }
}
