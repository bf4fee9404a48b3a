package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestBytes;
import io.portico.testing.TestGateway;
import io.portico.proxy.upstream.RelayBuffers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Answers are relayed in the memory they were read into ({@link RelayBuffers}): every byte
 * arrives as the backend sent it while that memory is recycled between answers, and every way
 * an answer ends (relayed, client gone, backend gone, retried, mirrored) gives it back.
 */
class RelayBuffersEndToEndTest {

  private static final String HOST = "relay.example.com";

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private final AtomicInteger unavailableAnswers = new AtomicInteger();
  private final AtomicInteger mirrored = new AtomicInteger();
  private TestGateway gateway;
  private int httpPort;
  private int httpsPort;
  private long baseline;

  @BeforeEach
  void start() throws Exception {
    assertThat(RelayBuffers.ALLOCATOR).as("relay buffers available on this JVM").isNotNull();
    HttpServer backend = vertx.createHttpServer().requestHandler(this::serve);
    int backendPort = backend.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    fleet.serviceAt("default", "blobs", backendPort, true);
    httpPort = TestGateway.freePort();
    httpsPort = TestGateway.freePort();
    Pem certificate = TestCertificates.selfSigned(HOST);
    gateway = TestGateway.start(directory, "gateway.yaml", ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: infra}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: http, protocol: HTTP, port: %d, allowedRoutes: {namespaces: {from: All}}}
          - name: https
            protocol: HTTPS
            port: %d
            tls: {certificateRefs: [{name: relay-cert}]}
            allowedRoutes: {namespaces: {from: All}}
        """.formatted(httpPort, httpsPort),
        "secret.yaml", certificate.secretYaml("infra", "relay-cert"),
        "backends.yaml", fleet.yaml(),
        "routes.yaml", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: blobs, namespace: default}
            spec:
              parentRefs: [{name: gw, namespace: infra}]
              hostnames: [%s]
              rules:
              - matches: [{path: {type: PathPrefix, value: /retried}}]
                retry: {codes: [503], attempts: 2}
                backendRefs: [{name: blobs, port: 80}]
              - matches: [{path: {type: PathPrefix, value: /mirrored}}]
                filters:
                - type: RequestMirror
                  requestMirror: {backendRef: {name: blobs, port: 80}}
                backendRefs: [{name: blobs, port: 80}]
              - backendRefs: [{name: blobs, port: 80}]
            """.formatted(HOST));
    // Whatever earlier tests in this JVM left counted stays counted: compare with now.
    baseline = RelayBuffers.ALLOCATOR.outstanding();
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

  @Test
  void concurrentAnswersOfEverySizeArriveIntactOverHttp1Http2AndTls() throws Exception {
    HttpClient http1 = vertx.createHttpClient(new HttpClientOptions(),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(16));
    HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    HttpClient h2 = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
        .setTrustAll(true).setVerifyHost(false));
    int[] sizes = {0, 1, 100, 4095, 16_384, 65_537, 300_000, 1_000_000};
    Random random = new Random(42);
    List<Future<Void>> checks = new ArrayList<>();
    for (int i = 0; i < 240; i++) {
      int size = sizes[random.nextInt(sizes.length)];
      boolean chunked = random.nextBoolean();
      String uri = "/blob/" + i + "/" + size + (chunked ? "/chunked" : "");
      HttpClient client = switch (i % 3) {
        case 0 -> http1;
        case 1 -> h2c;
        default -> h2;
      };
      int port = i % 3 == 2 ? httpsPort : httpPort;
      int seed = i;
      checks.add(get(client, port, uri, 200)
          .map(body -> {
            assertThat(body.getBytes()).as(uri).isEqualTo(TestBytes.of(seed, size));
            return null;
          }));
    }
    Future.all(checks).await(60, TimeUnit.SECONDS);
    awaitBuffersBack();
  }

  @Test
  void clientsLeavingMidAnswerGiveTheBuffersBack() throws Exception {
    for (int i = 0; i < 20; i++) {
      try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), httpPort)) {
        OutputStream out = socket.getOutputStream();
        out.write(("GET /slow/" + i + "/2000000 HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] some = new byte[40_000];
        int read = 0;
        while (read < some.length) {
          int n = in.read(some, read, some.length - read);
          assertThat(n).isPositive();
          read += n;
        }
      } // Closed in the middle of the answer.
    }
    HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    for (int i = 0; i < 20; i++) {
      Promise<Void> someBytes = Promise.promise();
      h2c.request(to(httpPort, "/slow/" + i + "/2000000"))
          .compose(request -> request.send().onSuccess(response -> {
            // The stream is reset after its first body bytes.
            response.exceptionHandler(e -> { });
            response.handler(chunk -> {
              request.reset();
              someBytes.tryComplete();
            });
          }));
      someBytes.future().await(10, TimeUnit.SECONDS);
    }
    awaitBuffersBack();
  }

  @Test
  void backendsLeavingMidAnswerGiveTheBuffersBack() throws Exception {
    HttpClient client = vertx.createHttpClient();
    for (int i = 0; i < 20; i++) {
      Future<Buffer> body = get(client, httpPort, "/broken/" + i + "/500000", 200);
      // The client sees its answer cut short; what matters here is the memory.
      body.transform(ar -> Future.succeededFuture()).await(10, TimeUnit.SECONDS);
    }
    awaitBuffersBack();
  }

  @Test
  void retriedAndMirroredAnswersGiveTheBuffersBack() throws Exception {
    HttpClient client = vertx.createHttpClient();
    for (int i = 0; i < 10; i++) {
      unavailableAnswers.set(1);
      Buffer body = get(client, httpPort, "/retried/" + i + "/70000", 200)
          .await(10, TimeUnit.SECONDS);
      assertThat(body.getBytes()).isEqualTo(TestBytes.of(i, 70_000));
      assertThat(unavailableAnswers.get()).as("the refused answer was sent").isZero();
    }
    int before = mirrored.get();
    for (int i = 0; i < 10; i++) {
      Buffer body = get(client, httpPort, "/mirrored/" + i + "/70000", 200)
          .await(10, TimeUnit.SECONDS);
      assertThat(body.getBytes()).isEqualTo(TestBytes.of(i, 70_000));
    }
    TestGateway.awaitCondition("mirrors answered", () -> mirrored.get() >= before + 20);
    awaitBuffersBack();
  }

  /**
   * GETs {@code uri} from the gateway's {@code port} and reads the answer's body, checking its
   * status. The body handler is set in the same event-loop turn as the head arrives (a
   * callback chained one level further out runs a turn later, after body chunks that arrived
   * with the head were delivered to nobody).
   */
  private static Future<Buffer> get(HttpClient client, int port, String uri, int status) {
    return client.request(to(port, uri)).compose(request -> request.send().compose(response -> {
      assertThat(response.statusCode()).as(uri).isEqualTo(status);
      return response.body();
    }));
  }

  /** A request for {@code uri} on the gateway's {@code port}, for the route's host name. */
  private static RequestOptions to(int port, String uri) {
    return new RequestOptions().setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"))
        .setHost(HOST).setURI(uri);
  }

  private void awaitBuffersBack() {
    TestGateway.awaitCondition("relay buffers given back (" + baseline + " outstanding before)",
        Duration.ofSeconds(10), () -> RelayBuffers.ALLOCATOR.outstanding() <= baseline);
  }

  /**
   * The backend: {@code /<any>/<seed>/<size>[/chunked]} answers {@link TestBytes#of}; under
   * {@code /slow} at 16 KiB per 2 ms; under {@code /broken} it closes the connection halfway;
   * under {@code /retried} it first answers 503 with a body as long as the blob.
   */
  private void serve(HttpServerRequest request) {
    String[] parts = request.path().split("/");
    String kind = parts[1];
    int seed = Integer.parseInt(parts[2]);
    int size = Integer.parseInt(parts[3]);
    boolean chunked = parts.length > 4;
    HttpServerResponse response = request.response();
    if (kind.equals("mirrored")) {
      mirrored.incrementAndGet();
    }
    if (kind.equals("retried") && unavailableAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      response.setStatusCode(503).end(Buffer.buffer(TestBytes.of(seed + 1, size)));
      return;
    }
    byte[] bytes = TestBytes.of(seed, size);
    if (kind.equals("slow")) {
      response.setChunked(true);
      writeSlowly(response, bytes, 0);
      return;
    }
    if (kind.equals("broken")) {
      response.putHeader("content-length", String.valueOf(size));
      response.write(Buffer.buffer(bytes).slice(0, size / 2))
          .onComplete(ar -> request.connection().close());
      return;
    }
    if (chunked) {
      response.setChunked(true);
      for (int offset = 0; offset < size; offset += 10_000) {
        response.write(Buffer.buffer(bytes).slice(offset, Math.min(size, offset + 10_000)));
      }
      response.end();
    } else {
      response.end(Buffer.buffer(bytes));
    }
  }

  private void writeSlowly(HttpServerResponse response, byte[] bytes, int offset) {
    if (response.closed()) {
      return;
    }
    if (offset >= bytes.length) {
      response.end();
      return;
    }
    int end = Math.min(bytes.length, offset + 16_384);
    response.write(Buffer.buffer(bytes).slice(offset, end));
    vertx.setTimer(2, id -> writeSlowly(response, bytes, end));
  }
}
