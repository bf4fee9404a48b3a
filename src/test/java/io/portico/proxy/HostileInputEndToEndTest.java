package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.HttpProbe.Response;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.portico.testing.RawHttp2;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a hostile client or route author sends, over real sockets: each case asserts the answer,
 * what the backend saw, and that other clients were served meanwhile.
 */
class HostileInputEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final ExecutorService clients = Executors.newFixedThreadPool(8);
  private TestGateway gateway;
  private int port;

  @BeforeEach
  void choosePort() {
    port = TestGateway.freePort();
  }

  @AfterEach
  void stop() {
    clients.shutdownNow();
    if (gateway != null) {
      gateway.close();
    }
    probe.close();
    fleet.close();
  }

  private void serve(String routes) {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routes);
  }
  /** app.example.com to one pod of the Service web. */
  private void serveOneWebPod() {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: web, port: 80}]
        """));
  }


  private CompletableFuture<Response> async(java.util.function.Supplier<Response> request) {
    return CompletableFuture.supplyAsync(request, clients);
  }

  @Test
  void catastrophicBacktrackingRegexesAnswerWhileOtherClientsAreServed() {
    fleet.service("default", "redos", 1).service("default", "header", 1)
        .service("default", "fallback", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: RegularExpression, value: "/redos/((a+)+)+b"}}]
          backendRefs: [{name: redos, port: 80}]
        - matches: [{headers: [{name: x-user, type: RegularExpression, value: "((a+)+)+b"}]}]
          backendRefs: [{name: header, port: 80}]
        - backendRefs: [{name: fallback, port: 80}]
        """));
    // With a backtracking engine each of these takes 2^40 steps on an event loop (hours).
    String hostile = "a".repeat(40) + "!";
    List<CompletableFuture<Response>> attacks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      attacks.add(async(() -> probe.get(port, "app.example.com", "/redos/" + hostile)));
      attacks.add(async(() -> probe.send(HttpMethod.GET, port, "app.example.com", "/h",
          MultiMap.caseInsensitiveMultiMap().add("x-user", hostile), null)));
    }
    // Another client is served while the attacks are in flight (both event loops are free).
    for (int i = 0; i < 4; i++) {
      assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("fallback-pod-0");
    }
    for (CompletableFuture<Response> attack : attacks) {
      Response response = attack.join();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.pod()).isEqualTo("fallback-pod-0");
    }
    // And the patterns still match what they should.
    assertThat(probe.get(port, "app.example.com", "/redos/aaab").pod()).isEqualTo("redos-pod-0");
    assertThat(probe.send(HttpMethod.GET, port, "app.example.com", "/h",
        MultiMap.caseInsensitiveMultiMap().add("x-user", "aab"), null).pod())
        .isEqualTo("header-pod-0");
  }

  @Test
  void pathsAreCanonicalForMatchingAndForTheBackend() throws IOException {
    fleet.service("default", "api", 1).service("default", "admin", 1)
        .service("default", "fallback", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: Exact, value: /admin-exact}}]
          backendRefs: [{name: admin, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api}}]
          backendRefs: [{name: api, port: 80}]
        - backendRefs: [{name: fallback, port: 80}]
        """));

    // Merged slashes and decoded unreserved characters reach the /api rule, and the backend
    // receives the canonical path (the query as sent).
    String merged = raw("GET //api/x?q=%2F HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(merged).startsWith("HTTP/1.1 200").contains("\"pod\":\"api-pod-0\"")
        .contains("\"path\":\"/api/x?q=%2F\"");
    String decoded = raw("GET /%61pi/./y//z HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(decoded).startsWith("HTTP/1.1 200").contains("\"pod\":\"api-pod-0\"")
        .contains("\"path\":\"/api/y/z\"");

    // An escaped slash is decoded, dot segments removed after it, and the client redirected to
    // the result (Envoy Gateway's UnescapeAndRedirect): no backend sees the request.
    String escaped = raw("GET /api/..%2fadmin-exact?x=1 HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(escaped).startsWith("HTTP/1.1 307").containsIgnoringCase("location: /admin-exact?x=1\r\n")
        .doesNotContain("pod-0");
    assertThat(probe.get(port, "app.example.com", "/admin-exact?x=1").pod()).isEqualTo("admin-pod-0");

    // A fragment is refused.
    String fragment = raw("GET /api/x#frag HTTP/1.1\r\nHost: app.example.com\r\n"
        + "Connection: close\r\n\r\n");
    assertThat(fragment).startsWith("HTTP/1.1 400").doesNotContain("pod-0");

    // HTTP/2 requests get the same canonical path.
    assertThat(probe.sendHttp2(HttpMethod.GET, port, "app.example.com", "//%61pi/h2").json()
        .getString("path")).isEqualTo("/api/h2");
  }

  @Test
  void securityPolicyPorticoCannotEnforceFailsClosed() {
    fleet.service("default", "private", 1).service("default", "public", 1);
    serve(route("private", "private.example.com", """
        - backendRefs: [{name: private, port: 80}]
        """) + "---\n" + route("public", "public.example.com", """
        - backendRefs: [{name: public, port: 80}]
        """) + """
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: SecurityPolicy
        metadata: {name: basic-auth, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: private}]
          basicAuth: {users: {name: basic-auth-users}}
        """);

    Response refused = probe.get(port, "private.example.com", "/secret");
    assertThat(refused.status()).isEqualTo(500);
    assertThat(refused.headers().get("x-portico-failure")).isEqualTo("security_policy_not_enforced");
    assertThat(refused.body()).contains("SecurityPolicy default/basic-auth").doesNotContain("pod");
    assertThat(probe.get(port, "public.example.com", "/").pod()).isEqualTo("public-pod-0");

    var status = gateway.portico().state().status().unimplementedPolicies()
        .get(new io.portico.resource.ObjectKey("SecurityPolicy", "default", "basic-auth"));
    var condition = status.getAncestors().get(0).getConditions().get(0);
    assertThat(condition.getType()).isEqualTo("Accepted");
    assertThat(condition.getStatus()).isEqualTo("False");
    assertThat(condition.getMessage()).contains("Portico does not implement SecurityPolicy yet");
  }

  @Test
  void rapidResetStreamsAreCountedWithoutStackTracesWhileOtherClientsAreServed()
      throws IOException {
    serveOneWebPod();
    long before = clientFailures();
    PrintStream stderr = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    try {
      // CVE-2023-44487's shape: each request and its RST_STREAM in the same packet.
      try (RawHttp2 h2 = new RawHttp2(port)) {
        for (int i = 0; i < 200; i++) {
          int stream = 1 + 2 * i;
          h2.headers(stream, i % 2 == 0 ? "GET" : "POST", "app.example.com", "/reset", i % 2 == 0)
              .reset(stream);
        }
        h2.flush();
        // Another client is served meanwhile.
        assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("web-pod-0");
        TestGateway.awaitCondition("client-caused failures counted",
            () -> clientFailures() > before);
      }
      gateway.close(); // Whatever the resets left behind is logged by now.
      gateway = null;
    } finally {
      System.setErr(stderr);
    }
    String log = logged.toString(StandardCharsets.UTF_8);
    assertThat(log).doesNotContain("Unhandled exception").doesNotContain("already been read")
        .doesNotContain("\tat ");
  }

  /**
   * HTTP/2 clients that break the protocol are counted, not logged a line (or a stack trace)
   * each: a first frame that is not SETTINGS, or a SETTINGS acknowledgement, which Vert.x
   * logged as an error per connection before handing the connection over. And a client whose
   * 1,000 streams each carry a Host other than their {@code :authority} gets them reset until
   * Netty closes its connection (200 resets), without a bug counted or a stack trace logged.
   */
  @Test
  void http2ClientsBreakingTheProtocolAreCountedNotLoggedPerConnection() throws IOException {
    serveOneWebPod();
    long protocolErrors = ClientFailures.total(ClientFailureCause.PROTOCOL_ERROR);
    long bugs = ClientFailures.unhandled();
    PrintStream stderr = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    try {
      byte[] windowUpdateFirst = {0, 0, 4, 0x8, 0, 0, 0, 0, 0, 0, 0, 0x7f, (byte) 0xff};
      byte[] settingsAckFirst = {0, 0, 0, 0x4, 0x1, 0, 0, 0, 0};
      for (int i = 0; i < 10; i++) {
        assertThat(afterPreface(windowUpdateFirst)).doesNotContain("HTTP/1.1");
        assertThat(afterPreface(settingsAckFirst)).doesNotContain("HTTP/1.1");
      }
      try (RawHttp2 h2 = new RawHttp2(port)) {
        for (int i = 0; i < 1000; i++) {
          h2.headers(1 + 2 * i, new io.netty.handler.codec.http2.DefaultHttp2Headers()
              .method("GET").scheme("http").authority("app.example.com").path("/x")
              .add("host", "other.example.com"), true);
        }
        h2.flush().readAll();
      }
      TestGateway.awaitCondition("protocol errors counted", () -> ClientFailures.total(
          ClientFailureCause.PROTOCOL_ERROR) >= protocolErrors + 20);
      assertThat(probe.get(port, "app.example.com", "/after").pod()).isEqualTo("web-pod-0");
    } finally {
      System.setErr(stderr);
    }
    assertThat(ClientFailures.unhandled()).isEqualTo(bugs);
    assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("ConnectionBase")
        .doesNotContain("preface").doesNotContain("SETTINGS").doesNotContain("\tat ");
  }

  /**
   * An HTTP/2 {@code :authority} (or Host header) Vert.x's parser throws on (a '%' not
   * followed by two hex digits) is a 400 naming the Host on its own stream, as on HTTP/1.1; it
   * never reaches a backend, and the connection keeps serving its other streams (Vert.x alone
   * failed the whole connection). A gRPC call gets the same as a gRPC status.
   */
  @Test
  void malformedHttp2AuthorityIsA400OnItsStreamAndTheConnectionKeepsServing()
      throws IOException {
    serveOneWebPod();
    try (RawHttp2 h2 = new RawHttp2(port)) {
      h2.headers(1, "GET", "app.exa%00mple.com", "/bad", true)
          .headers(3, "GET", "app.example.com", "/same-connection", true)
          .headers(5, new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET")
              .scheme("http").authority("app.example.com").path("/bad-host")
              .add("host", "a%.b"), true)
          .headers(7, new io.netty.handler.codec.http2.DefaultHttp2Headers().method("POST")
              .scheme("http").authority("app.exa%mple.com").path("/bad-grpc")
              .add("content-type", "application/grpc"), false)
          .headers(9, "GET", "app.example.com", "/after", true)
          .flush();
      assertThat(h2.awaitStatus(1)).isEqualTo("400");
      assertThat(h2.awaitStatus(3)).isEqualTo("200");
      assertThat(h2.awaitStatus(5)).isEqualTo("400");
      assertThat(h2.awaitStatus(7)).isEqualTo("200"); // trailers-only
      assertThat(h2.answer(7).get("grpc-status")).hasToString("13");
      assertThat(h2.answer(1).get("x-portico-failure")).hasToString("bad_request");
      assertThat(h2.awaitStatus(9)).isEqualTo("200");
    }
    assertThat(fleet.servers().get(0).receivedUris()).contains("/same-connection", "/after")
        .doesNotContain("/bad", "/bad-host", "/bad-grpc");
  }

  @Test
  void hpackBombIsRefusedWithoutReachingTheBackend() throws IOException {
    serveOneWebPod();
    try (RawHttp2 h2 = new RawHttp2(port)) {
      // Stream 1 puts a 4,000-byte header in the dynamic table (a legitimate request) ...
      ByteArrayOutputStream first = requestBlock("/seed");
      first.write(0x40); // literal with incremental indexing, new name
      first.write(6);
      first.writeBytes("x-bomb".getBytes(StandardCharsets.US_ASCII));
      first.writeBytes(new byte[] {0x7f, (byte) 0xa1, 0x1e}); // length 4000
      first.writeBytes("a".repeat(4000).getBytes(StandardCharsets.US_ASCII));
      h2.frame(0x1, 0x5, 1, first.toByteArray());
      // ... stream 3 refers to it 2,000 times: 3 KB on the wire, 8 MB of headers decoded.
      ByteArrayOutputStream bomb = requestBlock("/bomb");
      for (int i = 0; i < 2_000; i++) {
        bomb.write(0x80 | 62); // indexed: the first dynamic table entry
      }
      h2.frame(0x1, 0x5, 3, bomb.toByteArray()).flush();
      // Netty refuses the stream at its header list limit (8 KiB by default) and keeps the
      // connection; the seed, a legitimate request, is served.
      assertThat(h2.awaitRefusal(3)).isEqualTo("RST_STREAM");
      TestGateway.awaitCondition("the seed request served",
          () -> fleet.servers().get(0).receivedUris().contains("/seed"));
    }
    assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("web-pod-0");
    assertThat(fleet.servers().get(0).receivedUris()).doesNotContain("/bomb");
  }

  @Test
  void continuationFloodIsCutOffWithoutReachingTheBackend() throws IOException {
    serveOneWebPod();
    String outcome;
    try (RawHttp2 h2 = new RawHttp2(port)) {
      // HEADERS without END_HEADERS, then CONTINUATION frames that never end the block
      // (CVE-2024-27316's shape): the decoder must stop at its header list limit.
      h2.frame(0x1, 0x1, 1, requestBlock("/flood").toByteArray());
      ByteArrayOutputStream field = new ByteArrayOutputStream();
      field.write(0x00); // literal without indexing, new name
      field.write(3);
      field.writeBytes("x-c".getBytes(StandardCharsets.US_ASCII));
      field.write(100);
      field.writeBytes("c".repeat(100).getBytes(StandardCharsets.US_ASCII));
      byte[] continuation = field.toByteArray();
      try {
        for (int batch = 0; batch < 100; batch++) {
          for (int i = 0; i < 100; i++) {
            h2.frame(0x9, 0, 1, continuation);
          }
          h2.flush();
        }
        outcome = h2.awaitRefusal(1);
      } catch (java.net.SocketException cutOff) {
        outcome = "CLOSED"; // the gateway closed while frames were still being written
      }
    }
    assertThat(outcome).isIn("GOAWAY", "CLOSED");
    assertThat(probe.get(port, "app.example.com", "/other").pod()).isEqualTo("web-pod-0");
    assertThat(fleet.servers().get(0).receivedUris()).doesNotContain("/flood");
  }

  /** An HPACK block of GET {@code path} on app.example.com, static table and literals only. */
  private static ByteArrayOutputStream requestBlock(String path) {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x82); // :method GET
    block.write(0x86); // :scheme http
    block.write(0x04); // :path, literal without indexing
    block.write(path.length());
    block.writeBytes(path.getBytes(StandardCharsets.US_ASCII));
    block.write(0x01); // :authority, literal without indexing
    block.write("app.example.com".length());
    block.writeBytes("app.example.com".getBytes(StandardCharsets.US_ASCII));
    return block;
  }

  private static long clientFailures() {
    long sum = 0;
    for (ClientFailureCause cause : ClientFailureCause.values()) {
      sum += ClientFailures.total(cause);
    }
    return sum;
  }

  /**
   * Sends the HTTP/2 preface and {@code frames} on a new connection; returns everything the
   * gateway answers until it closes.
   */
  private String afterPreface(byte[] frames) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(
          StandardCharsets.ISO_8859_1));
      socket.getOutputStream().write(frames);
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** Sends {@code request} on a new connection and returns everything the gateway answers. */
  private String raw(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
