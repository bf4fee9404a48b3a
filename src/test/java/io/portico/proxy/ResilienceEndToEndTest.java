package io.portico.proxy;

import com.sun.net.httpserver.HttpServer;
import io.portico.echo.EchoServer;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BackendTrafficPolicy retries, timeouts, circuit breaker and connection pool against real echo
 * pods (and, where a pod must misbehave in a way echo cannot, small loopback servers): attempts
 * are counted at the pods, failures by the {@code x-portico-failure} label.
 */
class ResilienceEndToEndTest {

  private static final String HOST = "app.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final int port = TestGateway.freePort();
  private final List<AutoCloseable> extras = new ArrayList<>();
  private TestGateway gateway;

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.close();
    }
    for (AutoCloseable extra : extras) {
      extra.close();
    }
    fleet.close();
  }

  private static String policy(String spec) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: resilience, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
        %s""".formatted(spec.indent(2));
  }

  private void serve(String backends, String rules, String policySpec) {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", backends, "routes.yaml", route("app", HOST, rules),
        "policy.yaml", policy(policySpec));
  }

  private void serve(String policySpec) {
    serve(fleet.yaml(), "- backendRefs: [{name: web, port: 80}]\n", policySpec);
  }

  private HttpProbe.Response send(HttpMethod method, String uri) {
    return probe.send(method, port, HOST, uri, MultiMap.caseInsensitiveMultiMap(), null);
  }

  private long attempts() {
    return fleet.servers().stream().mapToLong(EchoServer::requestCount).sum();
  }

  /** A Service "mixed" whose endpoints are the given loopback ports (one slice each). */
  private static String mixedService(int... ports) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: mixed, namespace: default}
        spec:
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """);
    for (int i = 0; i < ports.length; i++) {
      yaml.append("""
          apiVersion: discovery.k8s.io/v1
          kind: EndpointSlice
          metadata:
            name: mixed-%d
            namespace: default
            labels: {kubernetes.io/service-name: mixed}
          addressType: IPv4
          ports: [{name: http, port: %d}]
          endpoints:
          - addresses: [127.0.0.1]
            conditions: {ready: true}
            targetRef: {kind: Pod, name: mixed-pod-%d, namespace: default}
          ---
          """.formatted(i, ports[i], i));
    }
    return yaml.toString();
  }

  private static final String MIXED_RULE = "- backendRefs: [{name: mixed, port: 80}]\n";

  @Test
  void retriesConfiguredStatusWithBackoffUntilNumRetriesRunOut() {
    fleet.service("default", "web", 3);
    serve("""
        retry:
          numRetries: 3
          retryOn: {httpStatusCodes: [503]}
          perRetry: {backOff: {baseInterval: 20ms, maxInterval: 100ms}}
        """);
    assertThat(send(HttpMethod.GET, "/status/503").status()).isEqualTo(503);
    long on503 = attempts();
    Map<Integer, Long> perPod = new TreeMap<>();
    for (int i = 0; i < fleet.servers().size(); i++) {
      perPod.put(i, fleet.servers().get(i).requestCount());
    }
    System.out.println("resilience: attempts of one GET /status/503 per pod: " + perPod);
    assertThat(perPod.values()).as("retries spread over the pods").allMatch(n -> n >= 1);
    assertThat(send(HttpMethod.GET, "/status/500").status()).isEqualTo(500);
    long on500 = attempts() - on503;
    assertThat(send(HttpMethod.GET, "/").status()).isEqualTo(200);
    long onSuccess = attempts() - on503 - on500;
    System.out.printf("resilience: attempts for 503 %d, for 500 %d, for 200 %d%n", on503, on500,
        onSuccess);
    assertThat(on503).as("first try + numRetries").isEqualTo(4);
    assertThat(on500).as("500 is not in httpStatusCodes").isEqualTo(1);
    assertThat(onSuccess).isEqualTo(1);
  }

  @Test
  void postIsNotRetriedAfterAnAnswerButIsAfterAConnectFailure() throws Exception {
    fleet.service("default", "web", 1);
    int echo = fleet.servers().get(0).port();
    // Two closed ports before the pod: the free retry covers one, the policy the other.
    serve(fleet.yaml() + mixedService(TestGateway.freePort(), TestGateway.freePort(), echo),
        MIXED_RULE, """
        retry:
          numRetries: 2
          retryOn: {triggers: [connect-failure, retriable-status-codes], httpStatusCodes: [503]}
        """);
    assertThat(send(HttpMethod.POST, "/status/503").status()).isEqualTo(503);
    assertThat(attempts()).as("POST answered 503 is not re-sent").isEqualTo(1);
    int ok = 0;
    for (int i = 0; i < 30; i++) {
      if (send(HttpMethod.POST, "/").status() == 200) {
        ok++;
      }
    }
    System.out.printf("resilience: POST over 2 refusing + 1 live endpoint: %d/30 ok%n", ok);
    assertThat(ok).isEqualTo(30);
    assertThat(attempts()).isEqualTo(31);
  }

  @Test
  void perTryTimeoutMovesASilentAttemptToAnotherPod() throws Exception {
    fleet.service("default", "web", 1);
    Silent silent = new Silent(50);
    extras.add(silent);
    serve(fleet.yaml() + mixedService(silent.port(), fleet.servers().get(0).port()), MIXED_RULE, """
        retry:
          numRetries: 1
          retryOn: {triggers: [reset]}
          perRetry: {timeout: 300ms}
        """);
    int ok = 0;
    for (int i = 0; i < 6; i++) {
      HttpProbe.Response response = send(HttpMethod.GET, "/");
      if (response.status() == 200 && "web-pod-0".equals(response.pod())) {
        ok++;
      }
    }
    System.out.printf("resilience: per-try timeout: %d/6 ok, silent pod got %d connections%n",
        ok, silent.accepted.get());
    assertThat(ok).isEqualTo(6);
    assertThat(silent.accepted.get()).as("the silent pod was tried").isPositive();
  }

  @Test
  void perTryTimeoutRetriesAnAttemptWhoseHeadComesTooLate() throws Exception {
    fleet.service("default", "web", 1);
    Dawdler late = new Dawdler(2_000, 0);
    extras.add(late);
    serve(fleet.yaml() + mixedService(late.port(), fleet.servers().get(0).port()), MIXED_RULE, """
        retry:
          numRetries: 1
          retryOn: {triggers: [gateway-error]}
          perRetry: {timeout: 300ms, backOff: {baseInterval: 10ms}}
        """);
    int ok = 0;
    for (int i = 0; i < 6; i++) {
      HttpProbe.Response response = send(HttpMethod.GET, "/");
      if (response.status() == 200 && "web-pod-0".equals(response.pod())) {
        ok++;
      }
    }
    long fast = fleet.servers().get(0).requestCount();
    System.out.printf("resilience: per-try 300 ms vs a head after 2 s: %d/6 ok from the fast pod,"
        + " attempts: late pod %d, fast pod %d%n", ok, late.requests.get(), fast);
    assertThat(ok).isEqualTo(6);
    assertThat(fast).as("each request answered by one attempt at the fast pod").isEqualTo(6);
    // Each event loop's round robin starts some requests at the late pod, given up each time.
    assertThat(late.requests.get()).as("the late pod was tried").isBetween(1, 6);
  }

  @Test
  void perTryTimeoutWithoutAMatchingTriggerAnswers504() throws Exception {
    Dawdler late = new Dawdler(2_000, 0);
    extras.add(late);
    serve(mixedService(late.port()), MIXED_RULE, """
        retry:
          numRetries: 2
          retryOn: {triggers: [connect-failure]}
          perRetry: {timeout: 300ms}
        """);
    HttpProbe.Response response = send(HttpMethod.GET, "/");
    System.out.printf("resilience: per-try timeout, connect-failure only: %d %s, %d attempt(s)%n",
        response.status(), response.headers().get("x-portico-failure"), late.requests.get());
    assertThat(response.status()).isEqualTo(504);
    assertThat(response.headers().get("x-portico-failure")).isEqualTo("response_timeout");
    assertThat(late.requests.get()).isEqualTo(1);
    // A request with a body: its timer starts once the body has arrived.
    HttpProbe.Response post = probe.send(HttpMethod.POST, port, HOST, "/",
        MultiMap.caseInsensitiveMultiMap(), io.vertx.core.buffer.Buffer.buffer("payload"));
    System.out.printf("resilience: per-try timeout, POST with a body: %d %s%n", post.status(),
        post.headers().get("x-portico-failure"));
    assertThat(post.status()).isEqualTo(504);
    assertThat(post.headers().get("x-portico-failure")).isEqualTo("response_timeout");
  }

  @Test
  void perTryTimeoutDoesNotCutASlowBodyAfterATimelyHead() throws Exception {
    Dawdler dripping = new Dawdler(0, 1_000);
    extras.add(dripping);
    serve(mixedService(dripping.port()), MIXED_RULE, """
        retry:
          numRetries: 1
          retryOn: {triggers: [reset, 5xx]}
          perRetry: {timeout: 300ms}
        """);
    HttpProbe.Response response = send(HttpMethod.GET, "/");
    System.out.printf("resilience: head at once, body gap 1 s, per-try 300 ms: %d '%s', %d "
        + "attempt(s)%n", response.status(), response.body(), dripping.requests.get());
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("helloworld");
    assertThat(dripping.requests.get()).isEqualTo(1);
  }

  @Test
  void anAttemptWithoutAHeadWithinTheBackendRequestTimeoutIsRetriedOnAnotherPod()
      throws Exception {
    fleet.service("default", "web", 1);
    Dawdler late = new Dawdler(30_000, 0);
    extras.add(late);
    serve(fleet.yaml() + mixedService(late.port(), fleet.servers().get(0).port()), MIXED_RULE
        + "  timeouts: {backendRequest: 300ms}\n  retry: {attempts: 1}\n",
        "timeout: {tcp: {connectTimeout: 2s}}");
    int ok = 0;
    long start = System.nanoTime();
    for (int i = 0; i < 6; i++) {
      HttpProbe.Response response = send(HttpMethod.GET, "/");
      if (response.status() == 200 && "web-pod-0".equals(response.pod())) {
        ok++;
      }
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.printf("resilience: backendRequest 300 ms vs a head after 30 s, route retry: "
        + "%d/6 ok in %d ms, late pod tried %d time(s)%n", ok, millis, late.requests.get());
    assertThat(ok).isEqualTo(6);
    assertThat(late.requests.get()).as("the late pod was tried, and given up").isBetween(1, 6);
  }

  @Test
  void anUpstreamSilentMidBodyIsCutAfterTheBackendRequestTimeout() throws Exception {
    // The head and "hello" at once, then nothing for 30 s: past timeouts.backendRequest the
    // client's response is ended early (its head is out, so no 504), not held for 30 s.
    Dawdler stalling = new Dawdler(0, 30_000);
    extras.add(stalling);
    serveWithBackendRequest500ms(stalling.port());
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(15_000);
      client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      String received = new String(client.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.ISO_8859_1);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      System.out.printf("resilience: body stalled after 'hello', backendRequest 500 ms: "
          + "connection ended after %d ms with %s%n", millis, received.replace("\r\n", "|"));
      assertThat(received).startsWith("HTTP/1.1 200").endsWith("hello");
    }
  }

  @Test
  void anUpstreamSilentRightAfterItsHeadIsAnswered504() throws Exception {
    serveWithBackendRequest500ms(answerOnceThenHold(
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".getBytes()));
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setSoTimeout(15_000);
      client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST
          + "\r\nConnection: close\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String received = new String(client.getInputStream().readAllBytes(),
          java.nio.charset.StandardCharsets.ISO_8859_1);
      System.out.printf("resilience: no body after the head, backendRequest 500 ms: %s%n",
          received.replace("\r\n", "|"));
      // Vert.x sends a head with the first body chunk: none came, so a 504 still can.
      assertThat(received).startsWith("HTTP/1.1 504")
          .contains("x-portico-failure: response_timeout");
    }
  }

  @Test
  void aSlowClientIsNotTakenForASilentUpstream() throws Exception {
    // 8 MiB sent at once: the relay pauses the upstream while the client, asleep for 2 s,
    // reads nothing. That pause is the client's, not the upstream's silence: nothing is cut.
    int size = 8 << 20;
    byte[] answerHead = ("HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n").getBytes();
    byte[] answer = java.util.Arrays.copyOf(answerHead, answerHead.length + size);
    serveWithBackendRequest500ms(answerOnceThenHold(answer));
    try (Socket client = new Socket("127.0.0.1", port)) {
      client.setReceiveBufferSize(64 << 10);
      client.setSoTimeout(15_000);
      client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      Thread.sleep(2_000);
      java.io.InputStream in = client.getInputStream();
      byte[] buffer = new byte[64 << 10];
      long total = 0;
      int headEnd = -1;
      StringBuilder head = new StringBuilder();
      while (total < size) {
        int n = in.read(buffer);
        if (n < 0) {
          break;
        }
        int from = 0;
        if (headEnd < 0) {
          head.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
          headEnd = head.indexOf("\r\n\r\n");
          if (headEnd < 0) {
            continue;
          }
          total = head.length() - headEnd - 4;
          continue;
        }
        total += n - from;
      }
      System.out.printf("resilience: slow client, 8 MiB, backendRequest 500 ms: %d bytes%n",
          total);
      assertThat(head.toString()).startsWith("HTTP/1.1 200");
      assertThat(total).isEqualTo(size);
    }
  }

  @Test
  void connectTimeoutAndRequestTimeoutFromThePolicy() throws Exception {
    fleet.service("default", "web", 1);
    Silent full = Silent.withFullBacklog();
    extras.add(full);
    serve(fleet.yaml() + mixedService(full.port()), MIXED_RULE
        + "- matches: [{path: {type: PathPrefix, value: /slow}}]\n"
        + "  backendRefs: [{name: web, port: 80}]\n", """
        timeout:
          tcp: {connectTimeout: 200ms}
          http: {requestTimeout: 3s}
        """);
    // A 5 s proxy connect timeout would have run into the 3 s request timeout (504) instead.
    HttpProbe.Response unreachable = send(HttpMethod.GET, "/");
    System.out.println("resilience: blackhole endpoint: " + unreachable.status() + " " + unreachable.headers().get("x-portico-failure") + " " + unreachable.body());
    assertThat(unreachable.status()).isEqualTo(502);
    assertThat(unreachable.headers().get("x-portico-failure")).isEqualTo("connect_timeout");
    HttpProbe.Response slow = send(HttpMethod.GET, "/slow?delay=5s");
    assertThat(slow.status()).isEqualTo(504);
    assertThat(slow.headers().get("x-portico-failure")).isEqualTo("request_timeout");
    assertThat(send(HttpMethod.GET, "/slow?delay=100ms").status()).isEqualTo(200);
  }

  @Test
  void routeRuleRetryAndTimeoutWinOverThePolicy() {
    fleet.service("default", "web", 2);
    serve(fleet.yaml(), """
        - backendRefs: [{name: web, port: 80}]
          retry: {codes: [500], attempts: 1}
          timeouts: {request: 3s}
        """, """
        retry: {numRetries: 3, retryOn: {triggers: [5xx]}}
        timeout: {http: {requestTimeout: 200ms}}
        """);
    assertThat(send(HttpMethod.GET, "/status/500").status()).isEqualTo(500);
    assertThat(attempts()).as("the rule's 1 retry, not the policy's 3").isEqualTo(2);
    assertThat(send(HttpMethod.GET, "/status/503").status()).isEqualTo(503);
    assertThat(attempts()).as("503 is not in the rule's codes").isEqualTo(3);
    assertThat(send(HttpMethod.GET, "/?delay=500ms").status())
        .as("the rule's 3 s request timeout, not the policy's 200 ms").isEqualTo(200);
  }

  @Test
  void circuitBreakerAnswers503BeyondMaxParallelRequests() throws Exception {
    fleet.service("default", "web", 2);
    serve("circuitBreaker: {maxParallelRequests: 2}\n");
    Map<String, Integer> outcomes = concurrently(10, 10, "/?delay=1s");
    System.out.println("resilience: 10 concurrent 1 s requests, maxParallelRequests 2: "
        + outcomes);
    assertThat(outcomes.getOrDefault("200", 0)).isBetween(2, 4);
    assertThat(outcomes.getOrDefault("503 overflow", 0)).isGreaterThanOrEqualTo(6);
    assertThat(outcomes.keySet()).containsOnly("200", "503 overflow");
    // Once the slow requests ended, the counters are back: requests pass again.
    for (int i = 0; i < 5; i++) {
      assertThat(send(HttpMethod.GET, "/").status()).isEqualTo(200);
    }
  }

  @Test
  void noRetryBeyondMaxParallelRetries() {
    fleet.service("default", "web", 2);
    serve("""
        retry: {numRetries: 3, retryOn: {triggers: [5xx]}}
        circuitBreaker: {maxParallelRetries: 0}
        """);
    assertThat(send(HttpMethod.GET, "/status/503").status()).isEqualTo(503);
    assertThat(attempts()).isEqualTo(1);
  }

  /** A loopback HTTP/1.1 server answering every request after 200 ms, counting connections. */
  private static final class SlowServer implements AutoCloseable {
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger maxActive = new AtomicInteger();
    final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    final HttpServer server;
    final ExecutorService executor = Executors.newCachedThreadPool();

    SlowServer() throws IOException {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
      server.setExecutor(executor);
      server.createContext("/", exchange -> {
        clientPorts.add(exchange.getRemoteAddress().getPort());
        maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        active.decrementAndGet();
        byte[] body = "ok".getBytes();
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
      });
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    @Override
    public void close() {
      server.stop(0);
      executor.shutdownNow();
    }
  }

  /** Sends {@code count} GETs from {@code threads} threads; returns the outcomes counted. */
  private Map<String, Integer> concurrently(int threads, int count, String uri) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(threads);
    try {
      List<Future<HttpProbe.Response>> responses = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        responses.add(clients.submit(() -> send(HttpMethod.GET, uri)));
      }
      Map<String, Integer> outcomes = new TreeMap<>();
      for (Future<HttpProbe.Response> response : responses) {
        HttpProbe.Response r = response.get(20, TimeUnit.SECONDS);
        String outcome = r.status() == 200 ? "200"
            : r.status() + " " + r.headers().get("x-portico-failure");
        outcomes.merge(outcome, 1, Integer::sum);
      }
      return outcomes;
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void perEndpointMaxConnectionsBoundsThePool() throws Exception {
    SlowServer slow = new SlowServer();
    extras.add(slow);
    serve(mixedService(slow.port()), MIXED_RULE,
        "circuitBreaker: {perEndpoint: {maxConnections: 2}}\n");
    Map<String, Integer> outcomes = concurrently(8, 16, "/");
    System.out.printf("resilience: 16 requests from 8 threads, perEndpoint.maxConnections 2: "
        + "%s, %d connections at the pod, at most %d requests at once%n", outcomes,
        slow.clientPorts.size(), slow.maxActive.get());
    assertThat(outcomes).containsExactly(Map.entry("200", 16));
    assertThat(slow.clientPorts).hasSizeLessThanOrEqualTo(2);
    assertThat(slow.maxActive.get()).isLessThanOrEqualTo(2);
  }

  /** Serves two SlowServer pods under {@code policySpec} with {@code loops} event loops. */
  private void serveSlowPods(int loops, SlowServer a, SlowServer b, String policySpec) {
    gateway = TestGateway.start(directory, options -> options.withEventLoops(loops),
        "gateway.yaml", gatewayYaml(port), "backends.yaml", mixedService(a.port(), b.port()),
        "routes.yaml", route("app", HOST, MIXED_RULE), "policy.yaml", policy(policySpec));
  }

  @Test
  void maxConnectionsCountsTheRuleConnectionsOverAllEndpoints() throws Exception {
    SlowServer a = new SlowServer();
    SlowServer b = new SlowServer();
    extras.add(a);
    extras.add(b);
    serveSlowPods(1, a, b, "circuitBreaker: {maxConnections: 2}\n");
    Map<String, Integer> outcomes = concurrently(16, 16, "/");
    System.out.printf("resilience: 16 concurrent 200 ms requests, 2 pods, 1 event loop, "
        + "maxConnections 2: %s, connections at the pods %d + %d, at most %d + %d requests at "
        + "once%n", outcomes, a.clientPorts.size(), b.clientPorts.size(), a.maxActive.get(),
        b.maxActive.get());
    // The first request to each pod opens a connection (the rule's 2); every other one waits
    // for one of them (pending, well below maxPendingRequests' 1024) instead of opening more.
    assertThat(outcomes).containsExactly(Map.entry("200", 16));
    assertThat(a.clientPorts.size() + b.clientPorts.size()).isEqualTo(2);
    assertThat(a.maxActive.get() + b.maxActive.get()).isLessThanOrEqualTo(2);
  }

  @Test
  void maxConnectionsOverEventLoopsStillGivesEveryEndpointAConnection() throws Exception {
    SlowServer a = new SlowServer();
    SlowServer b = new SlowServer();
    extras.add(a);
    extras.add(b);
    serveSlowPods(2, a, b, "circuitBreaker: {maxConnections: 2, maxPendingRequests: 4}\n");
    Map<String, Integer> outcomes = concurrently(16, 16, "/");
    int connections = a.clientPorts.size() + b.clientPorts.size();
    System.out.printf("resilience: 16 concurrent 200 ms requests, 2 pods, 2 event loops, "
        + "maxConnections 2, maxPendingRequests 4: %s, connections at the pods %d + %d%n",
        outcomes, a.clientPorts.size(), b.clientPorts.size());
    // As Envoy: at most maxConnections + endpoints x pools (one per pod and event loop).
    assertThat(connections).isBetween(2, 2 + 2 * 2);
    assertThat(outcomes.keySet()).contains("200").isSubsetOf("200", "503 overflow");
    // At rest, no request is refused for want of a connection: each pod has one on each loop.
    for (int i = 0; i < 6; i++) {
      assertThat(send(HttpMethod.GET, "/").status()).isEqualTo(200);
    }
    assertThat(a.clientPorts.size() + b.clientPorts.size()).isLessThanOrEqualTo(2 + 2 * 2);
  }

  @Test
  void maxRequestsPerConnectionRetiresConnections() throws Exception {
    SlowServer slow = new SlowServer();
    extras.add(slow);
    serve(mixedService(slow.port()), MIXED_RULE,
        "circuitBreaker: {maxRequestsPerConnection: 2}\n");
    for (int i = 0; i < 8; i++) {
      assertThat(send(HttpMethod.GET, "/").status()).isEqualTo(200);
    }
    System.out.printf("resilience: 8 sequential requests, maxRequestsPerConnection 2: "
        + "%d connections at the pod%n", slow.clientPorts.size());
    // 8 requests, at most 2 per connection: at least 4 connections.
    assertThat(slow.clientPorts.size()).isBetween(4, 8);
  }

  @Test
  void maxPendingRequestsBoundsTheWaitForAConnection() throws Exception {
    SlowServer slow = new SlowServer();
    extras.add(slow);
    serve(mixedService(slow.port()), MIXED_RULE, """
        circuitBreaker:
          maxPendingRequests: 1
          perEndpoint: {maxConnections: 2}
        """);
    Map<String, Integer> outcomes = concurrently(8, 8, "/");
    System.out.println("resilience: 8 concurrent requests, 2 connections, maxPendingRequests 1: "
        + outcomes);
    assertThat(outcomes.keySet()).containsOnly("200", "503 overflow");
    // A request waiting for a new connection to open is pending too: with 8 arriving at once,
    // even the second connection's first request may overflow.
    assertThat(outcomes.get("200")).isBetween(1, 5);
    assertThat(outcomes.get("503 overflow")).isGreaterThanOrEqualTo(3);
  }

  @Test
  void http2SettingsReachAnH2cBackend() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    extras.add(() -> vertx.close().toCompletionStage().toCompletableFuture().get(10,
        TimeUnit.SECONDS));
    io.vertx.core.http.HttpServer h2c = vertx.createHttpServer(
            new io.vertx.core.http.HttpServerOptions().setHost("127.0.0.1"))
        .requestHandler(request -> request.response().end(request.version() + " "
            + request.connection().remoteSettings().getInitialWindowSize()));
    int h2cPort = h2c.listen(0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
        .actualPort();
    serve(mixedService(h2cPort).replace("ports: [{name: http, port: 80, targetPort: http}]",
            "ports: [{name: http, port: 80, targetPort: http, appProtocol: kubernetes.io/h2c}]"),
        MIXED_RULE, """
        http2:
          initialStreamWindowSize: 128Ki
          initialConnectionWindowSize: 1Mi
          maxConcurrentStreams: 10
        """);
    HttpProbe.Response response = send(HttpMethod.GET, "/");
    System.out.println("resilience: h2c backend saw " + response.body());
    assertThat(response.body()).isEqualTo("HTTP_2 131072");
  }

  /**
   * An h2c backend that breaks HTTP/2 once the connection is up (a DATA frame on stream 0)
   * costs its request a 5xx answer, and the connection's error is the upstream's, not counted
   * as a client's broken protocol: upstream connections get an exception handler of their own
   * when they are up (see UpstreamConnectionSetup), so what Vert.x logs for a connection without
   * one, and {@link LibraryLogs} counts, is the clients'.
   */
  @Test
  void h2cBackendBreakingTheProtocolIsNotCountedAsAClientsProtocolError() throws Exception {
    java.net.ServerSocket broken = new java.net.ServerSocket(0, 50,
        java.net.InetAddress.getLoopbackAddress());
    extras.add(broken);
    Thread acceptor = new Thread(() -> {
      try {
        while (true) {
          try (java.net.Socket socket = broken.accept()) {
            serveBrokenH2c(socket);
          }
        }
      } catch (java.io.IOException closed) {
        // The test is over.
      }
    }, "broken-h2c-backend");
    acceptor.setDaemon(true);
    acceptor.start();
    serve(mixedService(broken.getLocalPort()).replace(
            "ports: [{name: http, port: 80, targetPort: http}]",
            "ports: [{name: http, port: 80, targetPort: http, appProtocol: kubernetes.io/h2c}]"),
        MIXED_RULE, "loadBalancer: {type: RoundRobin}\n");
    long protocolErrors = ClientFailures.total(ClientFailureCause.PROTOCOL_ERROR);
    HttpProbe.Response response = send(HttpMethod.GET, "/");
    assertThat(response.status()).isBetween(500, 599);
    assertThat(ClientFailures.total(ClientFailureCause.PROTOCOL_ERROR)).isEqualTo(protocolErrors);
  }

  /**
   * One connection of the broken h2c backend: SETTINGS, then a DATA frame on stream 0 once the
   * client's request is on its way; then it waits for the client to close.
   */
  private static void serveBrokenH2c(java.net.Socket socket) throws java.io.IOException {
    socket.setSoTimeout(10_000);
    java.io.InputStream in = socket.getInputStream();
    java.io.OutputStream out = socket.getOutputStream();
    in.readNBytes(24); // the client's preface
    // An empty SETTINGS: the connection is up, and handed to Portico's connect handler.
    out.write(new byte[] {0, 0, 0, 0x4, 0, 0, 0, 0, 0});
    out.flush();
    in.readNBytes(9 + 9); // the client's SETTINGS and its ack
    // Then, with the request on its way, a DATA frame on stream 0: a connection error.
    out.write(new byte[] {0, 0, 1, 0x0, 0, 0, 0, 0, 0, 'x'});
    out.flush();
    try {
      in.readAllBytes();
    } catch (java.io.IOException reset) {
      // Closed by the client: what the backend waited for.
    }
  }

  /**
   * Issue 4's acceptance scenario: with retries on, a pod killed under load costs no idempotent
   * request, and passive health checking ejects it (retries then stop paying for it).
   */
  @Test
  void podKilledUnderLoadCostsNoRequestWithRetries() throws Exception {
    fleet.service("default", "web", 3);
    serve("""
        retry:
          numRetries: 3
          retryOn: {triggers: [connect-failure, reset, gateway-error]}
          perRetry: {backOff: {baseInterval: 10ms}}
        healthCheck:
          passive: {consecutiveLocalOriginFailures: 3, baseEjectionTime: 60s,
                    maxEjectionPercent: 50, interval: 1s}
        """);
    Map<String, Integer> outcomes = getsWhileKillingPodZero(4, 150);
    System.out.println("resilience: retries + passive health, 600 GETs, web-pod-0 closed: "
        + new TreeMap<>(outcomes));
    assertThat(outcomes.keySet()).noneMatch(outcome -> outcome.startsWith("failed"));
    assertThat(healthState("Service/default/web:80", "127.0.0.1:" + fleet.servers().get(0).port()))
        .isEqualTo("Ejected");
  }

  /**
   * Without any policy, a killed pod still costs no body-less GET: its reset pooled connection
   * is retried once on the same endpoint, and that refused connection once on another.
   */
  @Test
  void podKilledUnderLoadCostsNoGetEvenWithoutPolicy() throws Exception {
    fleet.service("default", "web", 3);
    serve("""
        loadBalancer: {type: RoundRobin}
        """);
    Map<String, Integer> outcomes = getsWhileKillingPodZero(4, 150);
    System.out.println("resilience: no policy, 600 GETs, web-pod-0 closed: " + new TreeMap<>(outcomes));
    assertThat(outcomes.keySet()).noneMatch(outcome -> outcome.startsWith("failed"));
  }

  /**
   * An endpoint that accepts new connections and resets each once the request is in (a pod
   * that is stopping): without any policy a GET is tried there, tried there again (the free
   * try after a reset, meant for a stale pooled connection), then once on another endpoint.
   */
  @Test
  void endpointResettingEveryConnectionCostsNoGetWithoutPolicy() throws Exception {
    fleet.service("default", "web", 1);
    AtomicInteger resets = new AtomicInteger();
    ServerSocket resetter = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    extras.add(resetter::close);
    Thread acceptor = new Thread(() -> {
      while (!resetter.isClosed()) {
        try (Socket s = resetter.accept()) {
          if (readRequestHead(s.getInputStream())) {
            resets.incrementAndGet();
          }
          s.setSoLinger(true, 0); // close with RST
        } catch (IOException e) {
          return;
        }
      }
    }, "resetter");
    acceptor.setDaemon(true);
    acceptor.start();
    serve(mixedService(resetter.getLocalPort(), fleet.servers().get(0).port()), MIXED_RULE,
        "loadBalancer: {type: RoundRobin}\n");
    for (int i = 0; i < 6; i++) {
      HttpProbe.Response response = send(HttpMethod.GET, "/try/" + i);
      assertThat(response.status()).as("GET /try/" + i).isEqualTo(200);
    }
    assertThat(resets.get()).as("requests the resetting endpoint read").isGreaterThanOrEqualTo(2);
  }

  /** Runs a bounded GET loop per thread and closes web-pod-0 after a third of the requests. */
  private Map<String, Integer> getsWhileKillingPodZero(int threads, int perThread)
      throws Exception {
    AtomicInteger done = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(threads);
    Map<String, Integer> outcomes = new ConcurrentHashMap<>();
    List<Future<?>> loops = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      loops.add(clients.submit(() -> {
        for (int i = 0; i < perThread; i++) {
          HttpProbe.Response r = send(HttpMethod.GET, "/?delay=5ms");
          String outcome = r.status() == 200 ? r.pod()
              : "failed " + r.status() + " " + r.headers().get("x-portico-failure");
          outcomes.merge(outcome, 1, Integer::sum);
          done.incrementAndGet();
        }
      }));
    }
    TestGateway.awaitCondition("a third of the requests", () -> done.get() >= threads * perThread / 3);
    fleet.servers().get(0).close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (Future<?> loop : loops) {
      loop.get(60, TimeUnit.SECONDS);
    }
    clients.shutdownNow();
    assertThat(outcomes.values().stream().mapToInt(Integer::intValue).sum())
        .isEqualTo(threads * perThread);
    return outcomes;
  }

  /** Returns what passive/active health checking says of {@code endpoint}, null if unknown. */
  @SuppressWarnings("unchecked")
  private String healthState(String backend, String endpoint) {
    Map<String, Object> port = (Map<String, Object>) io.portico.health.HealthRegistry
        .of(gateway.portico().vertx()).describe().get(backend);
    for (Map<String, Object> entry : port == null ? List.<Map<String, Object>>of()
        : (List<Map<String, Object>>) port.get("endpoints")) {
      if (endpoint.equals(entry.get("endpoint"))) {
        return (String) entry.get("state");
      }
    }
    return null;
  }

  /**
   * A loopback HTTP/1.1 server that answers every request "helloworld" with its head after
   * {@code headDelayMillis}, and "world" {@code bodyGapMillis} after "hello"; counts requests.
   */
  private static final class Dawdler implements AutoCloseable {
    final ServerSocket socket;
    final AtomicInteger requests = new AtomicInteger();
    final List<Socket> held = new ArrayList<>();

    Dawdler(long headDelayMillis, long bodyGapMillis) throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            Socket s = socket.accept();
            synchronized (held) {
              held.add(s);
            }
            Thread connection = new Thread(() -> serve(s, headDelayMillis, bodyGapMillis));
            connection.setDaemon(true);
            connection.start();
          }
        } catch (IOException e) {
          // closed
        }
      }, "dawdler-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private void serve(Socket s, long headDelayMillis, long bodyGapMillis) {
      try (s) {
        java.io.InputStream in = s.getInputStream();
        java.io.OutputStream out = s.getOutputStream();
        while (readRequestHead(in)) {
          requests.incrementAndGet();
          Thread.sleep(headDelayMillis);
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello".getBytes());
          out.flush();
          Thread.sleep(bodyGapMillis);
          out.write("world".getBytes());
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // reset by the proxy, or closed
      }
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      synchronized (held) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }

  /** Serves the rule on one backend at {@code backendPort} with a 500 ms backendRequest. */
  private void serveWithBackendRequest500ms(int backendPort) {
    serve(mixedService(backendPort), MIXED_RULE + "  timeouts: {backendRequest: 500ms}\n",
        "timeout: {tcp: {connectTimeout: 2s}}");
  }

  /**
   * Starts a loopback backend that accepts one connection, reads its request head, writes
   * {@code answer} and then holds the connection open, silent, for 30 s; returns its port.
   */
  private int answerOnceThenHold(byte[] answer) throws IOException {
    ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    extras.add(socket);
    Thread server = new Thread(() -> {
      try (Socket s = socket.accept()) {
        if (readRequestHead(s.getInputStream())) {
          s.getOutputStream().write(answer);
          s.getOutputStream().flush();
          Thread.sleep(30_000);
        }
      } catch (IOException | InterruptedException e) {
        // closed
      }
    }, "answer-once-backend");
    server.setDaemon(true);
    server.start();
    return socket.getLocalPort();
  }

  /**
   * Reads a request head (GETs: no body) up to its blank line; false when the connection ends
   * first.
   */
  private static boolean readRequestHead(java.io.InputStream in) throws IOException {
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return false;
      }
      matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
    }
    return true;
  }

  /** A loopback server that accepts connections and never answers. */
  private static final class Silent implements AutoCloseable {
    final ServerSocket socket;
    final AtomicInteger accepted = new AtomicInteger();
    final List<Socket> held = new ArrayList<>();

    Silent(int backlog) throws IOException {
      socket = new ServerSocket(0, backlog, InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            Socket s = socket.accept();
            accepted.incrementAndGet();
            synchronized (held) {
              held.add(s);
            }
          }
        } catch (IOException e) {
          // closed
        }
      }, "silent-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    private Silent(ServerSocket socket) {
      this.socket = socket;
    }

    /**
     * A server whose accept queue is full and never drained: the kernel drops further SYNs, so
     * a connect attempt neither succeeds nor is refused (a blackhole on loopback).
     */
    static Silent withFullBacklog() throws IOException {
      Silent silent = new Silent(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      for (int i = 0; i < 4; i++) {
        Socket filler = new Socket();
        try {
          filler.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), silent.port()),
              200);
          silent.held.add(filler);
        } catch (IOException e) {
          filler.close();
          break;
        }
      }
      return silent;
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
      synchronized (held) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }
}
