package io.portico.echo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class EchoServerTest {

  private Vertx vertx;
  private EchoServer echo;
  private HttpClient http1;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    echo = await(EchoServer.start(vertx,
        new EchoOptions("127.0.0.1", 0, "echo-pod-1", "gateway-conformance-infra")));
    http1 = vertx.createHttpClient(new HttpClientOptions());
  }

  @AfterEach
  void stop() throws Exception {
    await(echo.close());
  }

  @Test
  void http11EchoesTheRequestAsJson() throws Exception {
    Reply reply = send(http1, HttpMethod.GET, "/foo/bar?x=1&y=two",
        MultiMap.caseInsensitiveMultiMap().add("x-forwarded-for", "10.0.0.1"));

    assertThat(reply.status).isEqualTo(200);
    assertThat(reply.headers.get("Content-Type")).isEqualTo("application/json");
    assertThat(reply.headers.get("X-Content-Type-Options")).isEqualTo("nosniff");
    JsonObject json = reply.json();
    assertThat(json.getString("path")).isEqualTo("/foo/bar?x=1&y=two");
    assertThat(json.getString("host")).isEqualTo("echo.example:8080");
    assertThat(json.getString("method")).isEqualTo("GET");
    assertThat(json.getString("proto")).isEqualTo("HTTP/1.1");
    assertThat(json.getString("httpPort")).isEqualTo(String.valueOf(echo.port()));
    assertThat(json.getString("namespace")).isEqualTo("gateway-conformance-infra");
    assertThat(json.getString("pod")).isEqualTo("echo-pod-1");
    assertThat(json.getString("ingress")).isEmpty();
    assertThat(json.getString("service")).isEmpty();
    JsonObject headers = json.getJsonObject("headers");
    assertThat(headers.getJsonArray("X-Forwarded-For")).isEqualTo(new JsonArray().add("10.0.0.1"));
    assertThat(headers.fieldNames()).doesNotContain("Host", "host");
  }

  @Test
  void h2cPriorKnowledgeReportsHttp2() throws Exception {
    HttpClient h2 = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    Reply reply = send(h2, HttpMethod.GET, "/h2?q=1",
        MultiMap.caseInsensitiveMultiMap().add("X-Echo-Set-Header", "X-Seen:yes"));

    assertThat(reply.version).isEqualTo(HttpVersion.HTTP_2);
    assertThat(reply.status).isEqualTo(200);
    assertThat(reply.headers.get("x-seen")).isEqualTo("yes");
    JsonObject json = reply.json();
    assertThat(json.getString("proto")).isEqualTo("HTTP/2.0");
    assertThat(json.getString("host")).isEqualTo("echo.example:8080");
    assertThat(json.getString("path")).isEqualTo("/h2?q=1");
    assertThat(json.getJsonObject("headers").fieldNames())
        .contains("X-Echo-Set-Header")
        .noneMatch(name -> name.startsWith(":") || name.equalsIgnoreCase("host"));
  }

  @Test
  void h2cUpgradeReportsHttp2() throws Exception {
    HttpClient upgrading = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(true));

    Reply reply = send(upgrading, HttpMethod.GET, "/upgrade", MultiMap.caseInsensitiveMultiMap());

    assertThat(reply.version).isEqualTo(HttpVersion.HTTP_2);
    assertThat(reply.json().getString("proto")).isEqualTo("HTTP/2.0");
  }

  @Test
  void http10IsReportedAsSuch() throws Exception {
    HttpClient http10 = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_1_0));

    Reply reply = send(http10, HttpMethod.GET, "/old", MultiMap.caseInsensitiveMultiMap());

    assertThat(reply.json().getString("proto")).isEqualTo("HTTP/1.0");
  }

  @Test
  void keepsEveryValueOfARepeatedHeader() throws Exception {
    Reply reply = send(http1, HttpMethod.GET, "/multi", MultiMap.caseInsensitiveMultiMap()
        .add("X-Multi", "a").add("x-multi", "b").add("X-List", "c, d"));

    JsonObject headers = reply.json().getJsonObject("headers");
    assertThat(headers.getJsonArray("X-Multi").getList()).containsExactly("a", "b");
    assertThat(headers.getJsonArray("X-List").getList()).containsExactly("c, d");
  }

  @Test
  void setsTheResponseHeadersAskedForByXEchoSetHeader() throws Exception {
    Reply reply = send(http1, HttpMethod.GET, "/set", MultiMap.caseInsensitiveMultiMap()
        .add("X-Echo-Set-Header", "X-Foo:bar, X-Foo: baz,,X-Other:v")
        .add("X-Echo-Set-Header", "X-Third:3,Bad Name:x,Content-Length:0"));

    assertThat(reply.status).isEqualTo(200);
    assertThat(reply.headers.getAll("X-Foo")).containsExactly("bar,baz");
    assertThat(reply.headers.get("X-Other")).isEqualTo("v");
    assertThat(reply.headers.get("X-Third")).isEqualTo("3");
    assertThat(reply.headers.get("Content-Type")).isEqualTo("application/json");
    assertThat(reply.json().getString("path")).isEqualTo("/set");
  }

  @Test
  void statusPathAnswersWithThatStatusAndNoBody() throws Exception {
    Reply unavailable = send(http1, HttpMethod.GET, "/status/503",
        MultiMap.caseInsensitiveMultiMap());
    Reply collapsed = send(http1, HttpMethod.GET, "//status//404",
        MultiMap.caseInsensitiveMultiMap());
    Reply notANumber = send(http1, HttpMethod.GET, "/status/abc",
        MultiMap.caseInsensitiveMultiMap());
    Reply outOfRange = send(http1, HttpMethod.GET, "/status/600",
        MultiMap.caseInsensitiveMultiMap());

    assertThat(unavailable.status).isEqualTo(503);
    assertThat(unavailable.body.length()).isZero();
    assertThat(collapsed.status).isEqualTo(404);
    assertThat(notANumber.status).isEqualTo(400);
    assertThat(outOfRange.status).isEqualTo(400);
  }

  @Test
  void healthAnswersOk() throws Exception {
    Reply health = send(http1, HttpMethod.GET, "//health", MultiMap.caseInsensitiveMultiMap());

    assertThat(health.status).isEqualTo(200);
    assertThat(health.body.toString()).isEqualTo("OK");
  }

  @Test
  void delayQueryWaitsBeforeAnswering() throws Exception {
    long startNanos = System.nanoTime();
    Reply reply = send(http1, HttpMethod.GET, "/slow?delay=300ms",
        MultiMap.caseInsensitiveMultiMap());
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);

    assertThat(reply.status).isEqualTo(200);
    assertThat(reply.json().getString("path")).isEqualTo("/slow?delay=300ms");
    assertThat(elapsedMillis).isGreaterThanOrEqualTo(300);
  }

  @Test
  void badDelayIsRejected() throws Exception {
    Reply reply = send(http1, HttpMethod.GET, "/slow?delay=soon",
        MultiMap.caseInsensitiveMultiMap());

    assertThat(reply.status).isEqualTo(400);
    assertThat(reply.json().getString("message")).contains("soon");
  }

  @Test
  void drainsTheRequestBodyAndDoesNotEchoIt() throws Exception {
    Buffer upload = Buffer.buffer(new byte[256 * 1024]);
    Reply reply = onContext(() -> http1.request(options(HttpMethod.POST, "/upload"))
        .compose(request -> request.send(upload))
        .compose(EchoServerTest::reply));

    assertThat(reply.status).isEqualTo(200);
    assertThat(reply.json().getString("method")).isEqualTo("POST");
    assertThat(reply.body.length()).isLessThan(4096);
  }

  @Test
  void recordsReceivedUris() throws Exception {
    send(http1, HttpMethod.GET, "/first?a=1", MultiMap.caseInsensitiveMultiMap());
    send(http1, HttpMethod.GET, "/health", MultiMap.caseInsensitiveMultiMap());

    assertThat(echo.requestCount()).isEqualTo(2);
    assertThat(echo.receivedUris()).containsExactly("/first?a=1", "/health");
  }

  @Test
  void h2cOnlyPortRefusesPlainHttp11ButAnswersHttp2() throws Exception {
    EchoServer h2cOnly = await(EchoServer.start(vertx, new EchoOptions("127.0.0.1", 0,
        "echo-pod-1", "gateway-conformance-infra").withH2cOnly(true)));
    try {
      HttpClient h2 = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      HttpClient upgrading = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(true));

      Reply plain = send(http1, h2cOnly.port(), "/", MultiMap.caseInsensitiveMultiMap());
      Reply prior = send(h2, h2cOnly.port(), "/", MultiMap.caseInsensitiveMultiMap());
      Reply upgraded = send(upgrading, h2cOnly.port(), "/", MultiMap.caseInsensitiveMultiMap());

      assertThat(plain.status).isEqualTo(400);
      assertThat(plain.body.toString()).isEqualTo("Expected h2c request\n");
      assertThat(prior.status).isEqualTo(200);
      assertThat(prior.json().getString("proto")).isEqualTo("HTTP/2.0");
      assertThat(upgraded.status).isEqualTo(200);
    } finally {
      await(h2cOnly.close());
    }
  }

  @Test
  void webSocketEchoesTextAndBinaryMessages() throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    List<String> received = onContext(() -> client.connect(echo.port(), "127.0.0.1", "/ws")
        .compose(socket -> {
          Promise<List<String>> done = Promise.promise();
          List<String> messages = new ArrayList<>();
          socket.textMessageHandler(text -> {
            messages.add("text:" + text);
            socket.writeBinaryMessage(Buffer.buffer(new byte[] {1, 2, 3}));
          });
          socket.binaryMessageHandler(data -> {
            messages.add("binary:" + Arrays.toString(data.getBytes()));
            done.tryComplete(messages);
          });
          socket.writeTextMessage("Websocket Support!");
          return done.future();
        }));

    assertThat(received).containsExactly("text:Websocket Support!", "binary:[1, 2, 3]");
  }

  @Test
  void retryFailsTheFirstAttemptsOfAUuidWithTheGivenStatus() throws Exception {
    String uri = "/retry/x?uuid=u1&succeedAfter=2&responseCode=503";
    MultiMap none = MultiMap.caseInsensitiveMultiMap();

    assertThat(send(http1, echo.port(), uri, none).status).isEqualTo(503);
    assertThat(send(http1, echo.port(), uri, none).status).isEqualTo(503);
    Reply third = send(http1, echo.port(), uri, none);
    assertThat(third.status).isEqualTo(200);
    assertThat(third.json().getString("path")).isEqualTo(uri);
    assertThat(send(http1, echo.port(), "/retry/x?uuid=u2&succeedAfter=0", none).status)
        .isEqualTo(200);
    assertThat(send(http1, echo.port(), "/retry/x?succeedAfter=1", none).status).isEqualTo(400);
  }

  @Test
  void retryWithoutResponseCodeResetsTheConnection() throws Exception {
    String uri = "/retry/x?uuid=u3&succeedAfter=1";

    assertThatThrownBy(() -> send(http1, echo.port(), uri, MultiMap.caseInsensitiveMultiMap()))
        .isNotNull();
    assertThat(send(http1, echo.port(), uri, MultiMap.caseInsensitiveMultiMap()).status)
        .isEqualTo(200);
  }

  @Test
  void httpsReportsTlsAndAnswersH2ViaAlpn() throws Exception {
    SelfSignedCertificate certificate = SelfSignedCertificate.create("echo.example");
    EchoServer https = await(EchoServer.start(vertx, new EchoOptions("127.0.0.1", 0,
        "echo-pod-1", "gateway-conformance-infra").withTls(new EchoTls(
            Files.readString(Path.of(certificate.certificatePath())),
            Files.readString(Path.of(certificate.privateKeyPath())), null))));
    try {
      HttpClient h2 = vertx.createHttpClient(new HttpClientOptions().setSsl(true)
          .setTrustAll(true).setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2));
      Reply reply = onContext(() -> h2.request(new RequestOptions()
              .setServer(SocketAddress.inetSocketAddress(https.port(), "127.0.0.1"))
              .setHost("echo.example").setPort(443).setURI("/tls"))
          .compose(request -> request.send())
          .compose(EchoServerTest::reply));

      assertThat(reply.status).isEqualTo(200);
      JsonObject tls = reply.json().getJsonObject("tls");
      assertThat(reply.json().getString("proto")).isEqualTo("HTTP/2.0");
      assertThat(tls.getString("version")).startsWith("TLSv1.");
      assertThat(tls.getString("negotiatedProtocol")).isEqualTo("h2");
      assertThat(tls.getString("serverName")).isEqualTo("echo.example");
      assertThat(tls.getJsonArray("peerCertificates")).isEmpty();
    } finally {
      await(https.close());
      certificate.delete();
    }
  }

  private Reply send(HttpClient client, int port, String uri, MultiMap headers)
      throws Exception {
    return onContext(() -> client.request(options(HttpMethod.GET, uri)
            .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1")))
        .compose(request -> {
          request.headers().addAll(headers);
          return request.send();
        })
        .compose(EchoServerTest::reply));
  }

  private RequestOptions options(HttpMethod method, String uri) {
    return new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(echo.port(), "127.0.0.1"))
        .setHost("echo.example")
        .setPort(8080)
        .setMethod(method)
        .setURI(uri);
  }

  private Reply send(HttpClient client, HttpMethod method, String uri, MultiMap headers)
      throws Exception {
    return onContext(() -> client.request(options(method, uri))
        .compose(request -> {
          request.headers().addAll(headers);
          return request.send();
        })
        .compose(EchoServerTest::reply));
  }

  private static Future<Reply> reply(HttpClientResponse response) {
    return response.body().map(body -> new Reply(response.statusCode(), response.version(),
        response.headers(), body));
  }

  /**
   * Runs a client exchange on an event loop: chained from the test thread, a callback can run
   * there after the response has already been delivered, and then body() waits forever.
   */
  private <T> T onContext(Supplier<Future<T>> exchange) throws Exception {
    Promise<T> result = Promise.promise();
    vertx.runOnContext(ignored -> exchange.get().onComplete(result));
    return await(result.future());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private record Reply(int status, HttpVersion version, MultiMap headers, Buffer body) {

    JsonObject json() {
      return body.toJsonObject();
    }
  }
}
