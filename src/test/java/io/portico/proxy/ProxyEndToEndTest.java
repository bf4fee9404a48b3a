package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.HttpProbe.Response;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.List;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway over real sockets: a real Portico serving a config directory, echo backends on
 * loopback, a real HTTP client.
 */
public class ProxyEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway gateway;
  private int port;

  @BeforeEach
  void choosePort() {
    port = TestGateway.freePort();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    probe.close();
    fleet.close();
  }

  /** The GatewayClass every end-to-end configuration starts with, and its document separator. */
  public static final String GATEWAY_CLASS = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      """;

  /** A Gateway {@code gw} in namespace infra, one HTTP listener on {@code port}, any route. */
  public static String gatewayYaml(int port) {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: infra}
        spec:
          gatewayClassName: portico
          listeners:
          - name: http
            protocol: HTTP
            port: %d
            allowedRoutes: {namespaces: {from: All}}
        """.formatted(port);
  }

  /** HTTPRoute {@code name} in namespace default on {@code gw}, with the rules given. */
  public static String route(String name, String hostname, String rules) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: %s, namespace: default}
        spec:
          parentRefs: [{name: gw, namespace: infra}]
          hostnames: [%s]
          rules:
        %s
        """.formatted(name, hostname, rules.indent(2));
  }

  private void serve(String routes) {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routes);
  }

  @Test
  void routesByHostPathHeaderQueryAndMethod() {
    fleet.service("default", "exact", 1).service("default", "header", 1)
        .service("default", "query", 1).service("default", "post", 1)
        .service("default", "fallback", 1).service("default", "other", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: Exact, value: /exact}}]
          backendRefs: [{name: exact, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: X-Version, value: "2"}]}]
          backendRefs: [{name: header, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api}, queryParams: [{name: debug, value: "1"}]}]
          backendRefs: [{name: query, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api}, method: POST}]
          backendRefs: [{name: post, port: 80}]
        - backendRefs: [{name: fallback, port: 80}]
        """) + "---\n" + route("other", "other.example.com", """
        - backendRefs: [{name: other, port: 80}]
        """));

    assertThat(probe.get(port, "app.example.com", "/exact").pod()).isEqualTo("exact-pod-0");
    assertThat(probe.get(port, "app.example.com", "/exact/more").pod()).isEqualTo("fallback-pod-0");
    MultiMap version = MultiMap.caseInsensitiveMultiMap().add("x-version", "2");
    assertThat(probe.send(HttpMethod.GET, port, "app.example.com", "/api/x", version, null).pod())
        .isEqualTo("header-pod-0");
    assertThat(probe.get(port, "app.example.com", "/api/x?debug=1").pod()).isEqualTo("query-pod-0");
    assertThat(probe.send(HttpMethod.POST, port, "app.example.com", "/api", MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer("x")).pod()).isEqualTo("post-pod-0");
    assertThat(probe.get(port, "app.example.com", "/apix").pod()).isEqualTo("fallback-pod-0");
    assertThat(probe.get(port, "APP.example.com:" + port, "/").pod()).isEqualTo("fallback-pod-0");
    assertThat(probe.get(port, "other.example.com", "/api/x?debug=1").pod()).isEqualTo("other-pod-0");
  }

  @Test
  void unknownHostAndUnmatchedPathGet404() {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: PathPrefix, value: /only}}]
          backendRefs: [{name: web, port: 80}]
        """));

    Response unknownHost = probe.get(port, "nobody.example.com", "/only");
    assertThat(unknownHost.status()).isEqualTo(404);
    assertThat(unknownHost.headers().get("x-portico-failure")).isEqualTo("no_route");
    assertThat(probe.get(port, "app.example.com", "/elsewhere").status()).isEqualTo(404);
    assertThat(probe.get(port, "app.example.com", "/only/../elsewhere").status()).isEqualTo(404);
  }

  @Test
  void invalidBackendRefAnswers500ForItsShareOfTraffic() {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - backendRefs:
          - {name: web, port: 80, weight: 3}
          - {name: does-not-exist, port: 80, weight: 1}
        """));

    Map<Integer, Integer> statuses = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      statuses.merge(probe.get(port, "app.example.com", "/").status(), 1, Integer::sum);
    }

    assertThat(statuses.keySet()).containsExactlyInAnyOrder(200, 500);
    assertThat(statuses.get(500)).isBetween(80, 120);
  }

  @Test
  void ruleWithoutBackendsAnswers500AndBackendWithoutReadyEndpointsAnswers503() {
    fleet.serviceAt("default", "not-ready", TestGateway.freePort(), false);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: PathPrefix, value: /empty}}]
        - matches: [{path: {type: PathPrefix, value: /not-ready}}]
          backendRefs: [{name: not-ready, port: 80}]
        """));

    assertThat(probe.get(port, "app.example.com", "/empty").status()).isEqualTo(500);
    Response notReady = probe.get(port, "app.example.com", "/not-ready");
    assertThat(notReady.status()).isEqualTo(503);
    assertThat(notReady.headers().get("x-portico-failure")).isEqualTo("no_endpoints");
  }

  @Test
  void refusedConnectionAnswers502() {
    fleet.serviceAt("default", "gone", TestGateway.freePort(), true);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: gone, port: 80}]
        """));

    Response response = probe.get(port, "app.example.com", "/");
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.headers().get("x-portico-failure")).isEqualTo("connect_refused");
  }

  @Test
  void silentUpstreamAnswers504AfterTheUpstreamTimeout() {
    fleet.service("default", "slow", 1);
    gateway = TestGateway.start(directory,
        ProxyOptions.DEFAULTS.withUpstreamIdleTimeoutMillis(300),
        "gateway.yaml", gatewayYaml(port), "backends.yaml", fleet.yaml(),
        "routes.yaml", route("app", "app.example.com", """
            - backendRefs: [{name: slow, port: 80}]
            """));

    assertThat(probe.get(port, "app.example.com", "/?delay=5s").status()).isEqualTo(504);
    assertThat(probe.get(port, "app.example.com", "/?delay=10ms").status()).isEqualTo(200);
  }

  @Test
  void weightedSplitFollowsBackendWeightsWithinFivePoints() {
    fleet.service("default", "v1", 1).service("default", "v2", 1);
    serve(route("app", "app.example.com", """
        - backendRefs:
          - {name: v1, port: 80, weight: 80}
          - {name: v2, port: 80, weight: 20}
        """));

    Map<String, Integer> pods = new HashMap<>();
    for (int i = 0; i < 1000; i++) {
      pods.merge(probe.get(port, "app.example.com", "/").pod(), 1, Integer::sum);
    }

    assertThat(pods.get("v1-pod-0")).isBetween(750, 850);
    assertThat(pods.get("v2-pod-0")).isBetween(150, 250);
  }

  @Test
  void requestsRoundRobinAcrossReadyEndpoints() {
    fleet.service("default", "web", 3);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: web, port: 80}]
        """));

    Map<String, Integer> pods = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      pods.merge(probe.get(port, "app.example.com", "/").pod(), 1, Integer::sum);
    }

    assertThat(pods).containsOnlyKeys("web-pod-0", "web-pod-1", "web-pod-2");
    assertThat(pods.values()).allSatisfy(count -> assertThat(count).isBetween(80, 120));
  }

  @Test
  void keepAliveConnectionCarriesThousandsOfCompleteResponses() throws IOException {
    fleet.service("default", "v1", 1).service("default", "v2", 1);
    serve(route("app", "app.example.com", """
        - backendRefs:
          - {name: v1, port: 80, weight: 1}
          - {name: v2, port: 80, weight: 1}
        """));

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      BufferedInputStream in = new BufferedInputStream(socket.getInputStream());
      for (int i = 0; i < 2000; i++) {
        out.write(("GET /n/" + i + " HTTP/1.1\r\nHost: app.example.com\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        String status = readLine(in);
        int contentLength = -1;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
          if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
            contentLength = Integer.parseInt(line.substring(15).trim());
          }
        }
        String body = new String(in.readNBytes(contentLength), StandardCharsets.UTF_8);
        assertThat(status).as("response %d", i).isEqualTo("HTTP/1.1 200 OK");
        assertThat(body).as("response %d", i).contains("\"path\":\"/n/" + i + "\"");
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new EOFException("connection closed after: " + line);
      }
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  @Test
  void hopByHopHeadersAreDroppedAndForwardedHeadersAdded() throws IOException {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: web, port: 80}]
        """));

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /h HTTP/1.1\r\n"
          + "Host: app.example.com\r\n"
          + "Connection: keep-alive, X-Drop-Me\r\n"
          + "X-Drop-Me: secret\r\n"
          + "Keep-Alive: timeout=5\r\n"
          + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\n"
          + "X-Forwarded-For: 203.0.113.7\r\n"
          + "X-Kept: yes\r\n"
          + "X-Echo-Set-Header: Keep-Alive:timeout=9,Proxy-Authenticate:Basic,X-Answer:42\r\n"
          + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      BufferedInputStream in = new BufferedInputStream(socket.getInputStream());
      assertThat(readLine(in)).isEqualTo("HTTP/1.1 200 OK");
      MultiMap headers = MultiMap.caseInsensitiveMultiMap();
      for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
        int colon = line.indexOf(':');
        headers.add(line.substring(0, colon), line.substring(colon + 1).trim());
      }
      Response response = new Response(200, headers, new String(
          in.readNBytes(Integer.parseInt(headers.get("content-length"))), StandardCharsets.UTF_8), "HTTP_1_1");

      assertThat(response.json().getString("host")).isEqualTo("app.example.com");
      assertThat(response.echoedHeader("X-Drop-Me")).isNull();
      assertThat(response.echoedHeader("Keep-Alive")).isNull();
      assertThat(response.echoedHeader("Proxy-Authorization")).isNull();
      assertThat(response.echoedHeader("Connection")).isNull();
      assertThat(response.echoedHeader("X-Kept")).isEqualTo("yes");
      assertThat(response.echoedHeader("X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
      assertThat(response.echoedHeader("X-Forwarded-Proto")).isEqualTo("http");
      assertThat(response.echoedHeader("X-Forwarded-Host")).isEqualTo("app.example.com");
      assertThat(headers.get("X-Answer")).isEqualTo("42");
      assertThat(headers.contains("Keep-Alive")).isFalse();
      assertThat(headers.contains("Proxy-Authenticate")).isFalse();
    }
  }

  @Test
  void http2ClientsAreServedAndRequestBodiesStreamThrough() {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: web, port: 80}]
        """));

    Response h2 = probe.sendHttp2(HttpMethod.GET, port, "app.example.com", "/h2");
    assertThat(h2.status()).isEqualTo(200);
    assertThat(h2.version()).isEqualTo("HTTP_2");
    assertThat(h2.json().getString("host")).isEqualTo("app.example.com");
    assertThat(h2.json().getString("path")).isEqualTo("/h2");

    Buffer body = Buffer.buffer(new byte[3 * 1024 * 1024]);
    Response upload = probe.send(HttpMethod.PUT, port, "app.example.com", "/upload",
        MultiMap.caseInsensitiveMultiMap(), body);
    assertThat(upload.status()).isEqualTo(200);
    assertThat(upload.echoedHeader("Content-Length")).isEqualTo(String.valueOf(3 * 1024 * 1024));
  }

  @Test
  void envoyGatewayBackendKindServesPlainHostPortUpstreams() {
    fleet.service("default", "unused", 1);
    int echoPort = fleet.servers().get(0).port();
    serve(route("app", "app.example.com", """
        - backendRefs: [{group: gateway.envoyproxy.io, kind: Backend, name: plain}]
        """) + """
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata: {name: plain, namespace: default}
        spec:
          endpoints:
          - ip: {address: 127.0.0.1, port: %d}
        """.formatted(echoPort));

    assertThat(probe.get(port, "app.example.com", "/b").pod()).isEqualTo("unused-pod-0");
  }

  @Test
  void gatewaysWithTheirOwnAddressesShareOnePort() {
    fleet.service("default", "first", 1).service("default", "second", 1);
    String gateways = GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: first, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, protocol: HTTP, port: %1$d}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: second, namespace: default}
        spec:
          gatewayClassName: portico
          addresses: [{type: IPAddress, value: 127.0.31.9}]
          listeners: [{name: http, protocol: HTTP, port: %1$d}]
        """.formatted(port);
    String routes = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: first, namespace: default}
        spec:
          parentRefs: [{name: first}]
          rules: [{backendRefs: [{name: first, port: 80}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: second, namespace: default}
        spec:
          parentRefs: [{name: second}]
          rules: [{backendRefs: [{name: second, port: 80}]}]
        """;
    gateway = TestGateway.start(directory, options -> options.withTranslator(
            options.translator().withAddressPool("127.0.30.0/24")),
        "gateway.yaml", gateways, "backends.yaml", fleet.yaml(), "routes.yaml", routes);

    var status = gateway.portico().state().status().gateways();
    String first = status.get(new io.portico.resource.ObjectKey("Gateway", "default", "first"))
        .getAddresses().get(0).getValue();
    assertThat(first).startsWith("127.0.30.");
    assertThat(probe.getAt(first, port, "any.example.com", "/").pod()).isEqualTo("first-pod-0");
    assertThat(probe.getAt("127.0.31.9", port, "any.example.com", "/").pod()).isEqualTo("second-pod-0");
  }

  @Test
  void h2cAppProtocolSendsRequestsUpstreamAsHttp2() {
    fleet.service("default", "plain", 1);
    int echoPort = fleet.servers().get(0).port();
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: PathPrefix, value: /h2c}}]
          backendRefs: [{name: grpcish, port: 8081}]
        - backendRefs: [{name: plain, port: 80}]
        """) + h2cService("grpcish", echoPort));

    assertThat(probe.get(port, "app.example.com", "/h2c").json().getString("proto"))
        .isEqualTo("HTTP/2.0");
    assertThat(probe.get(port, "app.example.com", "/plain").json().getString("proto"))
        .isEqualTo("HTTP/1.1");
  }

  @Test
  void anHttp2AnswerWithAHeaderValueHttp1CannotCarryGets502AndTheGatewayKeepsServing()
      throws Exception {
    // Netty's HTTP/2 backend writes a control character in a header value when told not to
    // validate; Portico's HTTP/2 client must not pass it on (nor hang the request on it).
    io.netty.channel.EventLoopGroup loop = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
        io.netty.channel.nio.NioIoHandler.newFactory());
    try {
      io.netty.channel.Channel backend = new io.netty.bootstrap.ServerBootstrap().group(loop)
          .channel(io.netty.channel.socket.nio.NioServerSocketChannel.class)
          .childHandler(new io.netty.channel.ChannelInitializer<>() {
            @Override
            protected void initChannel(io.netty.channel.Channel channel) {
              channel.pipeline().addLast(
                  io.netty.handler.codec.http2.Http2FrameCodecBuilder.forServer().build(),
                  new io.netty.channel.ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx,
                        Object msg) {
                      if (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame head) {
                        boolean bad = head.headers().path().toString().startsWith("/bad");
                        var headers = new io.netty.handler.codec.http2.DefaultHttp2Headers(false)
                            .status("200").add("x-value", bad ? "a\u0001b" : "fine");
                        ctx.write(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(
                            headers).stream(head.stream()));
                        ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2DataFrame(
                            io.netty.buffer.Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII),
                            true).stream(head.stream()));
                      }
                      io.netty.util.ReferenceCountUtil.release(msg);
                    }
                  });
            }
          }).bind("127.0.0.1", 0).sync().channel();
      int backendPort = ((java.net.InetSocketAddress) backend.localAddress()).getPort();
      serve(route("app", "app.example.com", """
          - backendRefs: [{name: h2only, port: 8081}]
          """) + h2cService("h2only", backendPort));

      for (String path : List.of("/bad", "/good")) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
          socket.setSoTimeout(10_000);
          socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: app.example.com\r\n"
              + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
          String raw = new String(socket.getInputStream().readAllBytes(),
              StandardCharsets.ISO_8859_1);
          if (path.equals("/bad")) {
            assertThat(raw).startsWith("HTTP/1.1 502").containsIgnoringCase(
                "x-portico-failure: upstream_reset").doesNotContain("a\u0001b");
          } else {
            assertThat(raw).startsWith("HTTP/1.1 200").containsIgnoringCase("x-value: fine")
                .contains("\r\nok\r\n");
          }
        }
      }
    } finally {
      loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }

  /**
   * A Service {@code name} whose port 8081 declares {@code kubernetes.io/h2c}, with one endpoint
   * at 127.0.0.1:{@code port}.
   */
  private static String h2cService(String name, int port) {
    return """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: default}
        spec:
          ports: [{name: h2c, port: 8081, targetPort: 3001, appProtocol: kubernetes.io/h2c}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %1$s-1, namespace: default, labels: {kubernetes.io/service-name: %1$s}}
        addressType: IPv4
        ports: [{name: h2c, port: %2$d}]
        endpoints: [{addresses: [127.0.0.1]}]
        """.formatted(name, port);
  }

  @Test
  void responseTrailersAreRelayed() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      var backend = vertx.createHttpServer().requestHandler(request -> request.response()
              .setChunked(true).write("part").onSuccess(v -> {
                request.response().trailers().add("X-Checksum", "abc123");
                request.response().end("-end");
              }))
          .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get();
      fleet.serviceAt("default", "trailing", backend.actualPort(), true);
      serve(route("app", "app.example.com", """
          - backendRefs: [{name: trailing, port: 80}]
          """));

      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: app.example.com\r\n"
            + "TE: trailers\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        String raw = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(raw).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
            .contains("part").contains("-end").containsIgnoringCase("x-checksum: abc123");
      }
    } finally {
      vertx.close();
    }
  }

  @Test
  void ruleTimeoutsAnswer504() {
    fleet.service("default", "slow", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: PathPrefix, value: /request}}]
          timeouts: {request: 300ms}
          backendRefs: [{name: slow, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /backend}}]
          timeouts: {request: 5s, backendRequest: 300ms}
          backendRefs: [{name: slow, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /unlimited}}]
          timeouts: {request: 0s}
          backendRefs: [{name: slow, port: 80}]
        """));

    Response request = probe.get(port, "app.example.com", "/request?delay=3s");
    assertThat(request.status()).isEqualTo(504);
    assertThat(request.headers().get("x-portico-failure")).isEqualTo("request_timeout");
    assertThat(probe.get(port, "app.example.com", "/request?delay=10ms").status()).isEqualTo(200);
    Response backend = probe.get(port, "app.example.com", "/backend?delay=3s");
    assertThat(backend.status()).isEqualTo(504);
    assertThat(backend.headers().get("x-portico-failure")).isEqualTo("response_timeout");
    assertThat(probe.get(port, "app.example.com", "/unlimited?delay=500ms").status()).isEqualTo(200);
  }

  @Test
  void hostileRequestsAreRefusedWith4xx() throws IOException {
    fleet.service("default", "web", 1);
    serve(route("app", "app.example.com", """
        - backendRefs: [{name: web, port: 80}]
        """));

    assertThat(rawStatusLine("POST /x HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\n"
        + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")).isEqualTo("HTTP/1.1 400 Bad Request");
    assertThat(rawStatusLine("GET / HTTP/1.1\r\nHost: app.example.com\r\nHost: evil.example\r\n\r\n"))
        .isEqualTo("HTTP/1.1 400 Bad Request");
    assertThat(rawStatusLine("GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Big: " + "a".repeat(20_000)
        + "\r\n\r\n")).isEqualTo("HTTP/1.1 431 Request Header Fields Too Large");
    assertThat(rawStatusLine("GET / HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.0 400");
    assertThat(rawStatusLine("not http at all\r\n\r\n")).contains(" 400 ");
    // The gateway still serves after all that.
    assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
  }

  private String rawStatusLine(String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      return readLine(new BufferedInputStream(socket.getInputStream()));
    }
  }

  @Test
  void retryPolicyRetriesListedCodesAndResetsButNotBodies() {
    fleet.service("default", "flaky", 1);
    serve(route("app", "app.example.com", """
        - matches: [{path: {type: PathPrefix, value: /retry}}]
          retry: {codes: [503], attempts: 2, backoff: 10ms}
          backendRefs: [{name: flaky, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /retry}, headers: [{name: X-Once, value: "yes"}]}]
          backendRefs: [{name: flaky, port: 80}]
        """));

    assertThat(probe.get(port, "app.example.com",
        "/retry/a?uuid=code-1&succeedAfter=2&responseCode=503").status()).isEqualTo(200);
    assertThat(probe.get(port, "app.example.com",
        "/retry/a?uuid=reset-1&succeedAfter=2").status()).isEqualTo(200);
    assertThat(probe.get(port, "app.example.com",
        "/retry/a?uuid=code-2&succeedAfter=3&responseCode=503").status())
        .as("more failures than attempts").isEqualTo(503);
    assertThat(probe.send(HttpMethod.GET, port, "app.example.com",
        "/retry/a?uuid=code-3&succeedAfter=1&responseCode=503",
        MultiMap.caseInsensitiveMultiMap().add("X-Once", "yes"), null).status())
        .as("no retry policy").isEqualTo(503);
    Response upload = probe.send(HttpMethod.POST, port, "app.example.com",
        "/retry/a?uuid=body-1&succeedAfter=1&responseCode=503", MultiMap.caseInsensitiveMultiMap(),
        Buffer.buffer("payload"));
    assertThat(upload.status()).as("a request with a body is not replayed").isEqualTo(503);
  }
}
