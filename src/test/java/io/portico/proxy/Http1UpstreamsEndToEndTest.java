package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestBytes;
import io.portico.testing.TestGateway;
import io.portico.proxy.upstream.Http1Upstreams;
import io.portico.proxy.upstream.RelayBuffers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static io.portico.proxy.StrictFramingEndToEndTest.ascii;
import static io.portico.proxy.StrictFramingEndToEndTest.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Portico's own HTTP/1.1 upstream client ({@link Http1Upstreams}, Http1Connection,
 * Http1Call, used for endpoints named by IP address) against raw-socket backends on
 * 127.0.0.1 that write exact bytes and count their connections: keep-alive reuse, each way an
 * answer can be delimited or end, informational and HEAD answers, malformed and early answers,
 * the pool's limit and its waiters, back-pressure towards a slow client, and shutdown. Relaying
 * a chunked answer's trailers is covered by {@link ProxyEndToEndTest#responseTrailersAreRelayed}
 * (its backend is at 127.0.0.1, so it goes through this client too).
 */
class Http1UpstreamsEndToEndTest {

  private static final String HOST = "h1.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final List<RawBackend> backends = new ArrayList<>();
  private TestGateway gateway;
  private int port;
  /** Relay buffers outstanding before the test (earlier tests in this JVM may hold some). */
  private long baseline;

  @BeforeEach
  void choosePort() {
    port = TestGateway.freePort();
    baseline = RelayBuffers.ALLOCATOR == null ? 0 : RelayBuffers.ALLOCATOR.outstanding();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    backends.forEach(RawBackend::close);
    fleet.close();
  }

  // --- keep-alive ---------------------------------------------------------------------------

  @Test
  void sequentialRequestsShareOneKeepAliveBackendConnection() throws Exception {
    RawBackend backend = serve(exchange -> {
      byte[] body = exchange.body();
      exchange.write(ok(exchange.method + " " + exchange.target + " " + body.length + " "
          + crc(body)));
      return true;
    });
    byte[] large = TestBytes.of(1, 300_000);
    try (Client client = new Client(port)) {
      for (int i = 0; i < 5; i++) {
        Answer answer = client.request("GET", "/seq/" + i);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("GET /seq/" + i + " 0 " + crc(new byte[0]));
      }
      // Bodies of both framings go out on the same connection, and leave it usable.
      client.send(ascii("POST /sized HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: "
          + large.length + "\r\n\r\n"));
      client.send(large);
      assertThat(client.read(false).text())
          .isEqualTo("POST /sized " + large.length + " " + crc(large));
      client.send(ascii("POST /chunked HTTP/1.1\r\nHost: " + HOST
          + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
      client.sendChunked(large, 50_000);
      assertThat(client.read(false).text())
          .isEqualTo("POST /chunked " + large.length + " " + crc(large));
      assertThat(client.request("GET", "/last").status()).isEqualTo(200);
    }
    assertThat(backend.requests).hasSize(8);
    assertThat(backend.accepted.get()).as("backend connections accepted").isEqualTo(1);
  }

  @Test
  void answerWithConnectionCloseIsFollowedByANewConnection() throws Exception {
    RawBackend backend = serve(exchange -> {
      exchange.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nclosed");
      return false;
    });
    try (Client client = new Client(port)) {
      for (int i = 0; i < 3; i++) {
        Answer answer = client.request("GET", "/close/" + i);
        assertThat(answer.status()).as("answer %d", i).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("closed");
      }
    }
    assertThat(backend.accepted.get()).isEqualTo(3);
    assertThat(backend.requests).containsExactly("GET /close/0", "GET /close/1", "GET /close/2");
  }

  @Test
  void backendClosingAfterItsAnswerWithoutSayingSoCostsNo502() throws Exception {
    RawBackend backend = serve(exchange -> {
      exchange.write(ok("once"));
      return false; // Closed right after the answer, which announced keep-alive.
    });
    try (Client client = new Client(port)) {
      for (int i = 0; i < 3; i++) {
        Answer answer = client.request("GET", "/once/" + i);
        assertThat(answer.status()).as("answer %d", i).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("once");
        TestGateway.awaitCondition("the backend closed its connection",
            () -> backend.open.get() == 0);
      }
    }
    assertThat(backend.accepted.get()).isEqualTo(3);
  }

  /**
   * A stopped pod closes all its connections at once, the pooled ones too; the gateway may read
   * those closes only after it has sent a request on one of them. The free retry such a GET gets
   * must not go out on another connection the endpoint has closed as well: that cost a GET now
   * and then when pods were replaced under load without a retry policy.
   */
  @Test
  void endpointClosingAllItsPooledConnectionsCostsNoGet() throws Exception {
    AtomicReference<RawBackend> self = new AtomicReference<>();
    RawBackend backend = serve(exchange -> {
      if (exchange.target.startsWith("/stop") && exchange.index > 0) {
        self.get().resetAll(); // The request came on a pooled connection: all of them go.
        return false;
      }
      Thread.sleep(200); // The two warm-up requests overlap: two pooled connections.
      exchange.write(ok("served " + exchange.target));
      return true;
    });
    self.set(backend);
    Vertx vertx = Vertx.vertx();
    try {
      // One HTTP/2 connection to the gateway: its streams are served on one event loop, so by
      // one pool.
      HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      for (int round = 0; round < 8; round++) {
        Future.all(get(h2c, "/warm/" + round + "/a", 200), get(h2c, "/warm/" + round + "/b", 200))
            .await(20, TimeUnit.SECONDS);
        TestGateway.awaitCondition("two pooled connections open", () -> backend.open.get() == 2);
        Answer answer = answer(h2c, "/stop/" + round).await(20, TimeUnit.SECONDS);
        assertThat(answer.status()).as("GET after the endpoint closed its connections, round %d:"
            + " %s", round, answer.text()).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("served /stop/" + round);
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  // --- how answers are delimited ------------------------------------------------------------

  @Test
  void http10AnswerDelimitedByTheConnectionCloseArrivesWhole() throws Exception {
    byte[] body = TestBytes.of(3, 300_000);
    RawBackend backend = serve(exchange -> {
      exchange.write("HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n");
      for (int offset = 0; offset < body.length; offset += 30_000) {
        exchange.write(Arrays.copyOfRange(body, offset, Math.min(body.length, offset + 30_000)));
      }
      return false;
    });
    try (Client client = new Client(port)) {
      for (int i = 0; i < 2; i++) {
        Answer answer = client.request("GET", "/old/" + i);
        assertThat(answer.status()).isEqualTo(200);
        // Relayed to an HTTP/1.1 client chunked: its end is the end of the backend's body.
        assertThat(answer.headers().get("transfer-encoding")).isEqualTo("chunked");
        assertThat(Arrays.mismatch(answer.body(), body)).as("answer %d: first byte that differs",
            i).isEqualTo(-1);
      }
    }
    assertThat(backend.accepted.get()).isEqualTo(2);
  }

  @Test
  void earlyHintsAreSkippedAndTheFinalAnswerRelayed() throws Exception {
    RawBackend backend = serve(exchange -> {
      String hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
      String last = "HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Length: 12\r\n\r\nfinal answer";
      if (exchange.index == 0) {
        exchange.write(hints);
        Thread.sleep(50); // In reads of their own...
        exchange.write(last);
      } else {
        exchange.write(hints + hints + last); // ... or all in one.
      }
      return true;
    });
    try (Client client = new Client(port)) {
      for (int i = 0; i < 2; i++) {
        Answer answer = client.request("GET", "/hints/" + i);
        assertThat(answer.status()).as("answer %d", i).isEqualTo(200);
        assertThat(answer.text()).isEqualTo("final answer");
        assertThat(answer.headers()).containsEntry("x-final", "yes").doesNotContainKey("link");
      }
    }
    assertThat(backend.accepted.get()).as("the connection survives the 1xx answers")
        .isEqualTo(1);
  }

  @Test
  void headAnswerWithAContentLengthAndNoBodyLeavesBothConnectionsInStep() throws Exception {
    RawBackend backend = serve(exchange -> {
      if (exchange.method.equals("HEAD")) {
        exchange.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234"
            + "\r\n\r\n");
      } else {
        exchange.write(ok("body of " + exchange.target));
      }
      return true;
    });
    try (Client client = new Client(port)) {
      for (int i = 0; i < 2; i++) {
        Answer head = client.request("HEAD", "/doc/" + i);
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.headers()).containsEntry("content-length", "1234")
            .doesNotContainKey("transfer-encoding");
        // Had the gateway sent a body after the head, this would read it as a status line.
        Answer get = client.request("GET", "/doc/" + i);
        assertThat(get.status()).isEqualTo(200);
        assertThat(get.text()).isEqualTo("body of /doc/" + i);
      }
    }
    assertThat(backend.requests)
        .containsExactly("HEAD /doc/0", "GET /doc/0", "HEAD /doc/1", "GET /doc/1");
    assertThat(backend.accepted.get()).isEqualTo(1);
  }

  // --- answers gone wrong -------------------------------------------------------------------

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "status not a number",
      "not HTTP",
      "header line without a colon",
      "control character in a header name",
      "control character in a header value",
      "invalid Content-Length",
      "two different Content-Lengths",
  })
  void malformedAnswerGets502AndTheGatewayKeepsServing(String shape) throws Exception {
    String bad = switch (shape) {
      case "status not a number" -> "HTTP/1.1 abc\r\n\r\n";
      case "not HTTP" -> "SSH-2.0-OpenSSH_9.6\r\n\r\n";
      case "header line without a colon" -> "HTTP/1.1 200 OK\r\nNoColonHere\r\n"
          + "Content-Length: 2\r\n\r\nok";
      case "control character in a header name" -> "HTTP/1.1 200 OK\r\nX-B\u0001d: v\r\n"
          + "Content-Length: 2\r\n\r\nok";
      case "control character in a header value" -> "HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\n"
          + "Content-Length: 2\r\n\r\nok";
      case "invalid Content-Length" -> "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok";
      case "two different Content-Lengths" -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
          + "Content-Length: 3\r\n\r\nok";
      default -> throw new IllegalArgumentException(shape);
    };
    RawBackend backend = serve(exchange -> {
      exchange.write(exchange.target.startsWith("/bad") ? bad : ok("fine"));
      return true; // Reads on: the gateway has to close a connection it cannot trust.
    });
    try (Client client = new Client(port)) {
      Answer answer = client.request("GET", "/bad");
      assertThat(answer.status()).isEqualTo(502);
      assertThat(answer.headers()).containsEntry("x-portico-failure", "upstream_reset");
    }
    TestGateway.awaitCondition("the gateway closed the backend connection",
        () -> backend.open.get() == 0 && backend.closedByGateway.get() == backend.accepted.get());
    assertGatewayStillServes();
    // An endpoint that answered, however badly, saw the request: it is not sent again as if a
    // pooled connection had been found closed.
    assertThat(backend.requests).filteredOn(request -> request.startsWith("GET /bad"))
        .hasSize(1);
    awaitBuffersBack();
  }

  @Test
  void earlyAnswerToALargeUploadIsRelayedAndTheGatewayKeepsServing() throws Exception {
    byte[] upload = TestBytes.of(8, 4 * 1024 * 1024);
    AtomicLong drained = new AtomicLong(-1);
    RawBackend backend = serve(exchange -> {
      if (!exchange.method.equals("POST")) {
        exchange.write(ok("fine"));
        return true;
      }
      // Answers as soon as it has the head, then reads the rest of the body.
      exchange.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n\r\ntoo big!");
      drained.set(exchange.body().length);
      return true;
    });
    try (Client client = new Client(port)) {
      AtomicReference<IOException> sendFailure = new AtomicReference<>();
      Thread sender = new Thread(() -> {
        try {
          client.send(ascii("POST /upload HTTP/1.1\r\nHost: " + HOST
              + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
          client.sendChunked(upload, 64 * 1024);
        } catch (IOException e) {
          sendFailure.set(e);
        }
      }, "upload");
      sender.setDaemon(true);
      sender.start();
      Answer answer = client.read(false);
      assertThat(answer.status()).isEqualTo(413);
      assertThat(answer.text()).isEqualTo("too big!");
      sender.join(20_000);
      assertThat(sender.isAlive()).as("upload still being sent").isFalse();
      assertThat(sendFailure.get()).as("upload failed").isNull();
      // The backend got the rest of the body, then the gateway closed the connection (its
      // framing after an early answer is not trusted). Unless the gateway read the answer only
      // after it had sent the request's end (a busy event loop can forward the whole upload
      // first): that exchange was an ordinary one, and its connection goes back to the pool.
      // Either way none is left half-used: it is closed, or it carries the next request.
      TestGateway.awaitCondition("the backend read the upload", () -> drained.get() >= 0);
      assertThat(drained.get()).as("body bytes the backend read after its answer (-1: cut)")
          .isEqualTo(upload.length);
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (backend.open.get() != 0 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      if (backend.open.get() == 0) {
        assertThat(backend.closedByGateway.get()).isEqualTo(1);
      } else {
        // An ordinary exchange: the gateway had the whole request, so it keeps the client's
        // connection. The next request goes on it, not on a new one: pools are per event loop,
        // and a new client connection may be served by the other one (two here), whose pool
        // is empty.
        assertThat(answer.headers().get("connection")).as("client connection kept")
            .isNotEqualToIgnoringCase("close");
        Answer pooled = client.request("GET", "/pooled");
        assertThat(pooled.status()).isEqualTo(200);
        assertThat(pooled.text()).isEqualTo("fine");
        assertThat(backend.accepted.get()).as("connections the backend accepted").isEqualTo(1);
        assertThat(backend.requests).contains("GET /pooled");
      }
      if (!"close".equalsIgnoreCase(answer.headers().get("connection"))) {
        // The client's connection was kept: it carries the next request.
        Answer next = client.request("GET", "/after");
        assertThat(next.status()).isEqualTo(200);
        assertThat(next.text()).isEqualTo("fine");
      }
    }
    assertGatewayStillServes();
    awaitBuffersBack();
  }

  @Test
  void backendClosingMidBodyCutsTheClientsAnswerAndTheGatewayKeepsServing() throws Exception {
    RawBackend backend = serve(exchange -> {
      if (exchange.target.startsWith("/cut")) {
        exchange.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        exchange.write(TestBytes.of(9, 100));
        return false; // 900 bytes short.
      }
      exchange.write(ok("fine"));
      return true;
    });
    String cut;
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(ascii("GET /cut HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n"));
      socket.getOutputStream().flush();
      // Ends when the gateway closes the connection: a timeout here fails the test.
      cut = readAll(socket.getInputStream());
    }
    int headEnd = cut.indexOf("\r\n\r\n");
    if (headEnd >= 0 && cut.startsWith("HTTP/1.1 502")) {
      // The close was read with the head, before any of the answer went out: a 502 can.
      assertThat(cut).contains("broke off or was malformed");
    } else if (headEnd >= 0) {
      assertThat(cut).startsWith("HTTP/1.1 200").containsIgnoringCase("content-length: 1000");
      assertThat(cut.length() - headEnd - 4).as("body bytes relayed").isLessThan(1000);
    }
    assertThat(backend.accepted.get()).isEqualTo(1);
    assertGatewayStillServes();
    awaitBuffersBack();
  }

  @Test
  void malformedChunkInTheAnswersFirstReadGets502NotASilentClose() throws Exception {
    RawBackend backend = serve(exchange -> {
      if (exchange.target.startsWith("/broken")) {
        // One write: a valid head, one chunk, then a chunk size that is not hex. The upstream
        // keeps its connection open, so only the malformed chunk can end the exchange.
        exchange.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n");
        return true;
      }
      exchange.write(ok("fine"));
      return true;
    });
    try (Client client = new Client(port)) {
      Answer answer = client.request("GET", "/broken");
      assertThat(answer.status()).isEqualTo(502);
      assertThat(answer.text()).contains("broke off or was malformed").doesNotContain("hello");
      // The client's connection was kept: an upstream's bad answer is not the client's fault.
      Answer next = client.request("GET", "/after");
      assertThat(next.status()).isEqualTo(200);
    }
    assertThat(backend.requests).contains("GET /broken");
    assertGatewayStillServes();
    awaitBuffersBack();
  }

  // --- the pool -----------------------------------------------------------------------------

  @Test
  void poolOfOneConnectionPerEndpointServesConcurrentRequestsInTurn() throws Exception {
    RawBackend backend = serve(poolOf(1, 5_000), exchange -> {
      Thread.sleep(300);
      exchange.write(ok("slow " + exchange.target));
      return true;
    });
    Vertx vertx = Vertx.vertx();
    try {
      // One HTTP/2 connection to the gateway: its streams are served on one event loop, so by
      // one pool.
      HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      List<Future<String>> answers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        answers.add(get(h2c, "/h2/" + i, 200));
      }
      Future.all(answers).await(20, TimeUnit.SECONDS);
      for (int i = 0; i < 3; i++) {
        assertThat(answers.get(i).result()).isEqualTo("slow /h2/" + i);
      }
      assertThat(backend.accepted.get()).as("backend connections accepted").isEqualTo(1);
      assertThat(backend.mostBusy.get()).as("requests the backend had at once").isEqualTo(1);
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    // Four HTTP/1.1 clients at once, spread over the gateway's two event loops: at most one
    // backend connection per loop.
    List<Thread> clients = new ArrayList<>();
    List<String> bodies = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 4; i++) {
      String target = "/h1/" + i;
      Thread thread = new Thread(() -> {
        try (Client client = new Client(port)) {
          Answer answer = client.request("GET", target);
          bodies.add(answer.status() + " " + answer.text());
        } catch (IOException e) {
          bodies.add(e.toString());
        }
      });
      thread.start();
      clients.add(thread);
    }
    for (Thread thread : clients) {
      thread.join(20_000);
    }
    assertThat(bodies).containsExactlyInAnyOrder("200 slow /h1/0", "200 slow /h1/1",
        "200 slow /h1/2", "200 slow /h1/3");
    assertThat(backend.mostOpen.get()).as("backend connections open at once").isLessThanOrEqualTo(2);
    assertThat(backend.mostBusy.get()).as("requests the backend had at once").isLessThanOrEqualTo(2);
  }

  @Test
  void requestWaitingForAFullPoolPastItsConnectTimeoutGets502() throws Exception {
    RawBackend backend = serve(poolOf(1, 500), exchange -> {
      if (exchange.target.startsWith("/hold")) {
        Thread.sleep(2_500);
      }
      exchange.write(ok("done " + exchange.target));
      return true;
    });
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      Future<String> held = get(h2c, "/hold", 200);
      TestGateway.awaitCondition("the backend has the first request",
          () -> backend.requests.contains("GET /hold"));
      // The pool's one connection is busy: this one waits for it, past its connect timeout.
      Future<HttpClientResponse> waited = h2c.request(to("/waits")).compose(request ->
          request.send().compose(response -> response.body().map(body -> response)));
      HttpClientResponse refused = waited.await(10, TimeUnit.SECONDS);
      assertThat(refused.statusCode()).isEqualTo(502);
      assertThat(refused.getHeader("x-portico-failure")).isEqualTo("connect_timeout");
      assertThat(held.await(10, TimeUnit.SECONDS)).isEqualTo("done /hold");
      // The connection went back to the pool, not to the request that gave up.
      assertThat(get(h2c, "/next", 200).await(10, TimeUnit.SECONDS)).isEqualTo("done /next");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    assertThat(backend.requests).containsExactly("GET /hold", "GET /next");
    assertThat(backend.accepted.get()).isEqualTo(1);
  }

  @Test
  void extraAnswerOnAnIdleConnectionClosesIt() throws Exception {
    RawBackend backend = serve(exchange -> {
      String answer = ok("answer to " + exchange.target);
      exchange.write(exchange.target.equals("/first")
          ? answer + ok("extra answer nobody asked for") : answer);
      return true;
    });
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/first").text()).isEqualTo("answer to /first");
      // The extra answer came while the connection was idle: it cannot be trusted any more.
      TestGateway.awaitCondition("the gateway closed the backend connection",
          () -> backend.closedByGateway.get() == 1);
      Answer second = client.request("GET", "/second");
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.text()).isEqualTo("answer to /second");
    }
    assertThat(backend.accepted.get()).isEqualTo(2);
  }

  /**
   * A backend that sends an answer nobody asked for right after the one asked for, in the same
   * write (a bug of its own), while two more requests wait for the pool's one connection:
   * neither may get an answer that is not the backend's answer to it. Were the extra answer
   * taken for the second request's, the backend's answer to the second would go to the third,
   * which may be another client's.
   */
  @Test
  void extraAnswerFromTheBackendIsNotTakenForWaitingRequests() throws Exception {
    RawBackend backend = serve(poolOf(1, 5_000), exchange -> {
      if (exchange.target.equals("/first")) {
        // Held until the other two requests wait for the pool's connection.
        Thread.sleep(500);
        exchange.write(ok("answer to /first") + ok("extra answer nobody asked for"));
      } else {
        exchange.write(ok("answer to " + exchange.target));
      }
      return true;
    });
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
      Future<String> first = get(h2c, "/first", 200);
      TestGateway.awaitCondition("the backend has the first request",
          () -> backend.requests.contains("GET /first"));
      Future<Answer> second = answer(h2c, "/second");
      Future<Answer> third = answer(h2c, "/third");
      assertThat(first.await(10, TimeUnit.SECONDS)).isEqualTo("answer to /first");
      // A 502 would do for these two; someone else's answer would not.
      Answer toSecond = second.await(10, TimeUnit.SECONDS);
      Answer toThird = third.await(10, TimeUnit.SECONDS);
      if (toSecond.status() == 200) {
        assertThat(toSecond.text()).as("answer to the second request")
            .isEqualTo("answer to /second");
      }
      if (toThird.status() == 200) {
        assertThat(toThird.text()).as("answer to the third request")
            .isEqualTo("answer to /third");
      }
      assertThat(get(h2c, "/fourth", 200).await(10, TimeUnit.SECONDS))
          .isEqualTo("answer to /fourth");
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void stoppingTheGatewayClosesItsIdlePooledConnections() throws Exception {
    RawBackend backend = serve(exchange -> {
      exchange.write(ok("fine"));
      return true;
    });
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/a").status()).isEqualTo(200);
    }
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/b").status()).isEqualTo(200);
    }
    assertThat(backend.open.get()).as("idle pooled connections").isPositive();
    assertThat(backend.closedByGateway.get()).isZero();
    gateway.close();
    gateway = null;
    TestGateway.awaitCondition("the backend saw every connection closed",
        () -> backend.open.get() == 0
            && backend.closedByGateway.get() == backend.accepted.get());
  }

  /** A BackendTrafficPolicy's connectionIdleTimeout closes a pooled connection left idle. */
  @Test
  void idleConnectionIsClosedAfterThePolicysConnectionIdleTimeout() throws Exception {
    RawBackend backend = serve(ProxyOptions.DEFAULTS,
        "timeout: {http: {connectionIdleTimeout: 300ms}}", exchange -> {
          exchange.write(ok("fine"));
          return true;
        });
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/a").status()).isEqualTo(200);
      // Well within the default idle timeout (60 s): only the policy's closes it.
      TestGateway.awaitCondition("the idle connection closed by the gateway",
          () -> backend.closedByGateway.get() == 1);
      assertThat(client.request("GET", "/b").status()).isEqualTo(200);
    }
    assertThat(backend.accepted.get()).isEqualTo(2);
  }

  /**
   * An endpoint that says it keeps idle connections 1 s ({@code Keep-Alive: timeout=1}, as
   * Node.js servers send with 5) does not get a request on one idle longer than that: it would
   * be closing it.
   */
  @Test
  void idleConnectionIsNotReusedPastTheEndpointsKeepAliveTimeout() throws Exception {
    RawBackend backend = serve(exchange -> {
      exchange.write("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 4\r\n\r\n"
          + "fine");
      return true; // Keeps it open: only the gateway decides not to reuse it.
    });
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/a").status()).isEqualTo(200);
      assertThat(client.request("GET", "/b").status()).isEqualTo(200);
      assertThat(backend.accepted.get()).as("reused within the second").isEqualTo(1);
      Thread.sleep(1_300);
      assertThat(client.request("GET", "/c").status()).isEqualTo(200);
    }
    assertThat(backend.accepted.get()).isEqualTo(2);
    TestGateway.awaitCondition("the expired connection closed by the gateway",
        () -> backend.closedByGateway.get() >= 1);
  }

  /** A connection older than the policy's maxConnectionDuration is closed after its request. */
  @Test
  void connectionIsRetiredOnceItHasLivedMaxConnectionDuration() throws Exception {
    RawBackend backend = serve(ProxyOptions.DEFAULTS,
        "timeout: {http: {maxConnectionDuration: 400ms}}", exchange -> {
          exchange.write(ok("fine"));
          return true;
        });
    try (Client client = new Client(port)) {
      assertThat(client.request("GET", "/a").status()).isEqualTo(200);
      assertThat(client.request("GET", "/b").status()).isEqualTo(200);
      assertThat(backend.accepted.get()).as("young: reused").isEqualTo(1);
      Thread.sleep(600);
      assertThat(client.request("GET", "/c").status()).isEqualTo(200);
      // The third request went out on the old connection (closed after it) or a new one.
      TestGateway.awaitCondition("the old connection retired",
          () -> backend.closedByGateway.get() >= 1);
      assertThat(client.request("GET", "/d").status()).isEqualTo(200);
    }
    assertThat(backend.accepted.get()).isEqualTo(2);
  }

  // --- back-pressure ------------------------------------------------------------------------

  /**
   * A 32 MiB answer to a client with a small receive buffer that reads slowly and stops for a
   * while after the first MiB: the backend is held back meanwhile (the gateway pauses reading
   * it rather than taking the answer into memory), and every byte arrives once the client
   * reads on. Here the kernel buffers between backend, gateway and client hold about 6-9 MiB.
   */
  @Test
  void largeAnswerToASlowReaderArrivesWholeAndHoldsTheBackendBack() throws Exception {
    byte[] body = TestBytes.of(42, 32 * 1024 * 1024);
    AtomicLong written = new AtomicLong();
    serve(exchange -> {
      exchange.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
          + "Content-Length: " + body.length + "\r\n\r\n");
      int piece = 64 * 1024;
      for (int offset = 0; offset < body.length; offset += piece) {
        exchange.write(Arrays.copyOfRange(body, offset, Math.min(body.length, offset + piece)));
        written.set(Math.min(body.length, offset + piece));
      }
      return true;
    });
    try (Client client = new Client(port, 16 * 1024)) {
      client.send(ascii("GET /large HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n"));
      Answer head = client.read(true);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers()).containsEntry("content-length", String.valueOf(body.length));
      ByteArrayOutputStream read = new ByteArrayOutputStream(body.length);
      byte[] piece = new byte[16 * 1024];
      boolean stopped = false;
      for (int reads = 0; read.size() < body.length; reads++) {
        int n = client.in.read(piece, 0, Math.min(piece.length, body.length - read.size()));
        if (n < 0) {
          break;
        }
        read.write(piece, 0, n);
        if (!stopped && read.size() >= 1024 * 1024) {
          stopped = true;
          // Stop reading until the backend has stopped writing (or a few seconds passed).
          long before = -1;
          for (int i = 0; i < 40 && written.get() != before; i++) {
            before = written.get();
            Thread.sleep(150);
          }
          assertThat(written.get()).as("bytes the backend could write while the client read"
              + " %d and stopped", read.size()).isLessThan(body.length);
        }
        if (reads % 4 == 0) {
          Thread.sleep(1);
        }
      }
      assertThat(read.size()).isEqualTo(body.length);
      assertThat(Arrays.mismatch(read.toByteArray(), body)).as("first byte that differs")
          .isEqualTo(-1);
      // The connection is still in step: the next request on it is answered whole.
      assertThat(Arrays.mismatch(client.request("GET", "/again").body(), body))
          .as("first byte that differs in the second answer").isEqualTo(-1);
    }
    awaitBuffersBack();
  }

  // --- helpers ------------------------------------------------------------------------------

  /** Starts a backend running {@code script} and a gateway routing {@link #HOST} to it. */
  private RawBackend serve(Script script) {
    return serve(ProxyOptions.DEFAULTS, script);
  }

  private RawBackend serve(ProxyOptions options, Script script) {
    return serve(options, null, script);
  }

  /**
   * Serves the route to a raw backend running {@code script}, with a BackendTrafficPolicy
   * whose spec (besides its targetRef) is {@code policySpec}, unless that is null.
   */
  private RawBackend serve(ProxyOptions options, String policySpec, Script script) {
    RawBackend backend = new RawBackend(script);
    backends.add(backend);
    fleet.serviceAt("default", "raw", backend.port(), true);
    String policy = policySpec == null ? "" : """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: pool, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: raw}
        %s""".formatted(policySpec.indent(2));
    gateway = TestGateway.start(directory, options, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("raw", HOST, """
            - backendRefs: [{name: raw, port: 80}]
            """), "policy.yaml", policy);
    return backend;
  }

  /** The default settings with {@code connections} per endpoint and event loop. */
  private static ProxyOptions poolOf(int connections, int connectTimeoutMillis) {
    ProxyOptions defaults = ProxyOptions.DEFAULTS;
    return new ProxyOptions(defaults.bindHost(), defaults.portOffset(), connectTimeoutMillis,
        defaults.upstreamIdleTimeoutMillis(), connections, defaults.client());
  }

  private RequestOptions to(String uri) {
    return new RequestOptions().setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"))
        .setHost(HOST).setURI(uri);
  }

  /**
   * GETs {@code uri} and reads the body as text, checking the status; the body is asked for in
   * the turn the head arrives (see RelayBuffersEndToEndTest.get).
   */
  private Future<String> get(HttpClient client, String uri, int status) {
    return client.request(to(uri)).compose(request -> request.send().compose(response -> {
      assertThat(response.statusCode()).as(uri).isEqualTo(status);
      return response.body().map(Buffer::toString);
    }));
  }

  /** GETs {@code uri}: its status and body, whatever the status. */
  private Future<Answer> answer(HttpClient client, String uri) {
    return client.request(to(uri)).compose(request -> request.send().compose(response ->
        response.body().map(body -> new Answer(response.statusCode(), Map.of(),
            body.getBytes()))));
  }

  /** A new client's request for /good is answered "fine": the gateway kept serving. */
  private void assertGatewayStillServes() throws IOException {
    try (Client client = new Client(port)) {
      Answer answer = client.request("GET", "/good");
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.text()).isEqualTo("fine");
    }
  }

  private void awaitBuffersBack() {
    if (RelayBuffers.ALLOCATOR != null) {
      TestGateway.awaitCondition("relay buffers given back (" + baseline + " outstanding before)",
          Duration.ofSeconds(10), () -> RelayBuffers.ALLOCATOR.outstanding() <= baseline);
    }
  }

  private static String ok(String body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
        + "\r\n\r\n" + body;
  }

  private static long crc(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return crc.getValue();
  }

  /** Reads a line ending in LF (a CR before it dropped); null at the end of the stream. */
  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        if (line.isEmpty()) {
          return null;
        }
        throw new EOFException("closed in the middle of a line: " + line);
      }
      line.append((char) c);
    }
    int end = line.length();
    return end > 0 && line.charAt(end - 1) == '\r' ? line.substring(0, end - 1) : line.toString();
  }

  /** Reads a message head up to its empty line; null when the stream ends before it starts. */
  private static List<String> readHead(InputStream in) throws IOException {
    String first = readLine(in);
    if (first == null) {
      return null;
    }
    List<String> lines = new ArrayList<>();
    lines.add(first);
    for (String line = readLine(in); ; line = readLine(in)) {
      if (line == null) {
        throw new EOFException("closed in the middle of a head: " + lines);
      }
      if (line.isEmpty()) {
        return lines;
      }
      lines.add(line);
    }
  }

  /** The header fields of a head's lines, by lower-case name (the last value of a repeat). */
  private static Map<String, String> fields(List<String> lines) {
    Map<String, String> fields = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      int colon = line.indexOf(':');
      fields.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
          line.substring(colon + 1).trim());
    }
    return fields;
  }

  /** Reads a chunked body (its trailer section skipped). */
  private static byte[] readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null) {
        throw new EOFException("closed before the last chunk");
      }
      int semicolon = sizeLine.indexOf(';');
      int size = Integer.parseInt((semicolon < 0 ? sizeLine : sizeLine.substring(0, semicolon))
          .trim(), 16);
      if (size == 0) {
        for (String line = readLine(in); line != null && !line.isEmpty(); line = readLine(in)) {
          // A trailer field.
        }
        return body.toByteArray();
      }
      byte[] chunk = in.readNBytes(size);
      if (chunk.length < size) {
        throw new EOFException("closed in the middle of a chunk");
      }
      body.write(chunk);
      if (!"".equals(readLine(in))) {
        throw new IOException("no CRLF after a chunk");
      }
    }
  }

  /** An answer as a raw client read it. */
  private record Answer(int status, Map<String, String> headers, byte[] body) {

    String text() {
      return new String(body, StandardCharsets.ISO_8859_1);
    }
  }

  /** An HTTP/1.1 client on one connection to the gateway, reading answers byte by byte. */
  private static final class Client implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    Client(int port) throws IOException {
      this(port, 0);
    }

    /** @param receiveBuffer the socket's receive buffer size, 0 for the system's */
    Client(int port, int receiveBuffer) throws IOException {
      socket = new Socket();
      if (receiveBuffer > 0) {
        socket.setReceiveBufferSize(receiveBuffer);
      }
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    /** Sends a body-less request and reads its answer. */
    Answer request(String method, String target) throws IOException {
      send(ascii(method + " " + target + " HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n"));
      return read(method.equals("HEAD"));
    }

    void send(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    /** Sends {@code body} in chunks of {@code size} bytes, and the last chunk. */
    void sendChunked(byte[] body, int size) throws IOException {
      for (int offset = 0; offset < body.length; offset += size) {
        int length = Math.min(size, body.length - offset);
        out.write(ascii(Integer.toHexString(length) + "\r\n"));
        out.write(body, offset, length);
        out.write(ascii("\r\n"));
      }
      send(ascii("0\r\n\r\n"));
    }

    /** Reads an answer: its head only when {@code toHead} (the answer to a HEAD). */
    Answer read(boolean toHead) throws IOException {
      List<String> head = readHead(in);
      if (head == null) {
        throw new EOFException("closed before an answer");
      }
      String[] statusLine = head.get(0).split(" ", 3);
      assertThat(statusLine[0]).as(head.get(0)).isEqualTo("HTTP/1.1");
      int status = Integer.parseInt(statusLine[1]);
      Map<String, String> headers = fields(head);
      byte[] body;
      if (toHead || status < 200 || status == 204 || status == 304) {
        body = new byte[0];
      } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        body = readChunked(in);
      } else if (headers.containsKey("content-length")) {
        int length = Integer.parseInt(headers.get("content-length"));
        body = in.readNBytes(length);
        if (body.length < length) {
          throw new EOFException("closed after " + body.length + " of " + length + " bytes");
        }
      } else {
        body = in.readAllBytes();
      }
      return new Answer(status, headers, body);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** What a {@link RawBackend} does with a request: true to read the next on its connection. */
  @FunctionalInterface
  private interface Script {
    boolean answer(Exchange exchange) throws Exception;
  }

  /** One request to a {@link RawBackend}, its head read: its body is left to the script. */
  private static final class Exchange {

    final String method;
    final String target;
    final Map<String, String> headers;
    /** The request's number on its connection, from 0. */
    final int index;
    private final InputStream in;
    private final OutputStream out;

    Exchange(List<String> head, int index, InputStream in, OutputStream out) {
      String[] requestLine = head.get(0).split(" ");
      this.method = requestLine[0];
      this.target = requestLine[1];
      this.headers = fields(head);
      this.index = index;
      this.in = in;
      this.out = out;
    }

    /** Reads the request's body, framed by Content-Length or chunked. */
    byte[] body() throws IOException {
      String length = headers.get("content-length");
      if (length != null) {
        byte[] body = in.readNBytes(Integer.parseInt(length));
        if (body.length < Integer.parseInt(length)) {
          throw new EOFException("request body cut short");
        }
        return body;
      }
      if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
        return readChunked(in);
      }
      return new byte[0];
    }

    void write(String text) throws IOException {
      write(ascii(text));
    }

    void write(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }
  }

  /**
   * A backend on 127.0.0.1 reading HTTP/1.1 requests off raw sockets, each connection on a
   * thread of its own, and answering them as its {@link Script} writes. It counts connections
   * accepted, open (now and at most at once), those the gateway closed (end of stream or reset
   * where a request could start), and requests being answered (now and at most at once).
   */
  private static final class RawBackend implements AutoCloseable {

    private final ServerSocket server;
    private final Script script;
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger open = new AtomicInteger();
    final AtomicInteger mostOpen = new AtomicInteger();
    final AtomicInteger closedByGateway = new AtomicInteger();
    final AtomicInteger busy = new AtomicInteger();
    final AtomicInteger mostBusy = new AtomicInteger();
    /** Each request's method and target, in arrival order. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    RawBackend(Script script) {
      this.script = script;
      try {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      Thread acceptor = new Thread(this::accept, "raw-backend");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void accept() {
      while (!server.isClosed()) {
        Socket socket;
        try {
          socket = server.accept();
        } catch (IOException e) {
          return;
        }
        sockets.add(socket);
        accepted.incrementAndGet();
        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        Thread connection = new Thread(() -> serve(socket), "raw-backend-connection");
        connection.setDaemon(true);
        connection.start();
      }
    }

    private void serve(Socket socket) {
      try (socket) {
        InputStream in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        for (int index = 0; ; index++) {
          List<String> head;
          try {
            head = readHead(in);
          } catch (java.net.SocketException reset) {
            head = null;
          }
          if (head == null) {
            closedByGateway.incrementAndGet();
            return;
          }
          Exchange exchange = new Exchange(head, index, in, out);
          requests.add(exchange.method + " " + exchange.target);
          mostBusy.accumulateAndGet(busy.incrementAndGet(), Math::max);
          boolean keep;
          try {
            keep = script.answer(exchange);
          } finally {
            busy.decrementAndGet();
          }
          if (!keep) {
            return;
          }
        }
      } catch (Exception e) {
        // The gateway closed the connection mid-request or mid-answer: the test sees the rest.
      } finally {
        open.decrementAndGet();
      }
    }

    /** Resets every connection open now (as a stopped process's are), the server still open. */
    void resetAll() {
      for (Socket socket : sockets) {
        try {
          socket.setSoLinger(true, 0);
          socket.close();
        } catch (IOException e) {
          // Closed already.
        }
      }
    }

    @Override
    public void close() {
      try {
        server.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      for (Socket socket : sockets) {
        try {
          socket.close();
        } catch (IOException e) {
          // Closing anyway.
        }
      }
    }
  }
}
