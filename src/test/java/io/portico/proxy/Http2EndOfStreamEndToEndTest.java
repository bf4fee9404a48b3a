package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP/2 requests whose HEADERS frame carries END_STREAM have no body (RFC 9113 8.1): they are
 * forwarded without {@code transfer-encoding: chunked}, and get what body-less requests get
 * (mirroring, the stale-connection retry).
 */
class Http2EndOfStreamEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final Vertx vertx = Vertx.vertx();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    TestGateway.awaitCondition("client closed", () -> {
      vertx.close();
      return true;
    });
    fleet.close();
  }

  @Test
  void endStreamIsReadable() {
    assertThat(Http2EndOfStream.available()).isTrue();
  }

  @Test
  void bodylessHttp2GetIsForwardedWithoutABodyAndMirrored() throws Exception {
    int port = TestGateway.freePort();
    fleet.service("default", "real", 1).service("default", "shadow", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - filters:
              - type: RequestMirror
                requestMirror: {backendRef: {name: shadow, port: 80}}
              backendRefs: [{name: real, port: 80}]
            """));
    // Prior knowledge (no Upgrade): the request is a HEADERS frame with END_STREAM.
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    JsonObject get = send(client, port, HttpMethod.GET, "/h2-get", null);
    assertThat(get.getString("pod")).isEqualTo("real-pod-0");
    assertThat(get.getJsonObject("headers").fieldNames())
        .noneMatch(name -> name.equalsIgnoreCase("transfer-encoding"));
    var shadow = fleet.servers().get(1);
    TestGateway.awaitCondition("the GET mirrored", () -> shadow.receivedUris().contains("/h2-get"));

    // A request with a body is still streamed (and mirrored once it is complete).
    JsonObject post = send(client, port, HttpMethod.POST, "/h2-post", Buffer.buffer("hello"));
    assertThat(post.getString("pod")).isEqualTo("real-pod-0");
    assertThat(post.getString("method")).isEqualTo("POST");
  }

  @Test
  void bodylessHttp2GetIsRetriedOnceWhenItsPooledConnectionWasStale() throws Exception {
    // Each backend connection answers its first request and resets on the second: the second
    // GET meets a stale pooled connection, and is retried on a fresh one.
    try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> answerOncePerConnection(backend), "one-shot-backend");
      acceptor.setDaemon(true);
      acceptor.start();
      int port = TestGateway.freePort();
      fleet.serviceAt("default", "oneshot", backend.getLocalPort(), true);
      gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
          "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
              - backendRefs: [{name: oneshot, port: 80}]
              """));
      HttpClient client = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      for (int i = 0; i < 3; i++) {
        assertThat(status(client, port, "/stale/" + i)).isEqualTo(200);
      }
    }
  }

  @Test
  void theStaleConnectionRetryCountsAgainstTheRetriesAPolicySets() throws Exception {
    try (java.net.ServerSocket backend = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> answerOncePerConnection(backend), "one-shot-backend");
      acceptor.setDaemon(true);
      acceptor.start();
      int port = TestGateway.freePort();
      fleet.serviceAt("default", "oneshot", backend.getLocalPort(), true);
      gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
          "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
              - backendRefs: [{name: oneshot, port: 80}]
              """), "policy.yaml", """
              apiVersion: gateway.envoyproxy.io/v1alpha1
              kind: BackendTrafficPolicy
              metadata: {name: no-retries, namespace: default}
              spec:
                targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
                retry: {numRetries: 0}
              """);
      HttpClient client = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      assertThat(status(client, port, "/first")).isEqualTo(200);
      // The pooled connection resets the second request: with no retry allowed, it fails.
      assertThat(status(client, port, "/second")).isGreaterThanOrEqualTo(500);
    }
  }

  private static void answerOncePerConnection(java.net.ServerSocket backend) {
    while (!backend.isClosed()) {
      try {
        java.net.Socket socket = backend.accept();
        Thread connection = new Thread(() -> {
          try (socket) {
            java.io.InputStream in = socket.getInputStream();
            readHead(in);
            socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            readHead(in);
            socket.setSoLinger(true, 0); // the second request: reset, unanswered
          } catch (java.io.IOException e) {
            // Closed.
          }
        });
        connection.setDaemon(true);
        connection.start();
      } catch (java.io.IOException e) {
        return;
      }
    }
  }

  private static void readHead(java.io.InputStream in) throws java.io.IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b; matched < 4 && (b = in.read()) >= 0; ) {
      matched = b == end[matched] ? matched + 1 : b == '\r' ? 1 : 0;
    }
  }

  private static int status(HttpClient client, int port, String uri) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setServer(io.vertx.core.net.SocketAddress.inetSocketAddress(port, "127.0.0.1"))
        .setHost("app.example.com").setPort(port).setURI(uri);
    return client.request(options)
        // The body handler is set in the turn the head arrives (see RelayBuffersEndToEndTest.get).
        .compose(request -> request.send()
            .compose(response -> response.body().map(body -> response.statusCode())))
        .toCompletionStage().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static JsonObject send(HttpClient client, int port, HttpMethod method, String uri,
      Buffer body) throws Exception {
    RequestOptions options = new RequestOptions().setMethod(method)
        .setServer(io.vertx.core.net.SocketAddress.inetSocketAddress(port, "127.0.0.1"))
        .setHost("app.example.com").setPort(port).setURI(uri);
    return client.request(options)
        .compose(request -> body == null ? request.send() : request.send(body))
        .compose(response -> response.body().map(Buffer::toJsonObject))
        .toCompletionStage().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
  }
}
