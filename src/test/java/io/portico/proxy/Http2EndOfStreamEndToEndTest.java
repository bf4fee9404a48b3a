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

    // A request with a body is still streamed (and, having a body, not mirrored).
    JsonObject post = send(client, port, HttpMethod.POST, "/h2-post", Buffer.buffer("hello"));
    assertThat(post.getString("pod")).isEqualTo("real-pod-0");
    assertThat(post.getString("method")).isEqualTo("POST");
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
