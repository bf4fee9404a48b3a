package io.portico.proxy;

import io.portico.ir.Endpoint;
import io.portico.proxy.lb.EndpointAffinity;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load balancing algorithms and session persistence against real echo pods: least request with
 * a slow pod, slow start, stickiness of every session shape over many simulated clients, cookie
 * attributes, re-pinning, two Portico instances agreeing, and the session cookie after a retry
 * and on Portico's own errors.
 */
class LoadBalancingEndToEndTest {

  private static final String HOST = "app.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final List<TestGateway> gateways = new ArrayList<>();
  private Vertx slowVertx;
  private final int port = TestGateway.freePort();
  private final int secondPort = TestGateway.freePort();

  @AfterEach
  void stop() {
    gateways.forEach(TestGateway::close);
    fleet.close();
    if (slowVertx != null) {
      slowVertx.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  private static String policy(String spec) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: lb, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
        %s""".formatted(spec.indent(2));
  }

  /** A route whose one rule sends to Service web, with {@code extra} lines in the rule. */
  private static String appRoute(String extra) {
    return route("app", HOST, "- backendRefs: [{name: web, port: 80}]\n" + extra);
  }

  /** A Service "web" whose endpoints are the given pods (name to port on 127.0.0.1). */
  private static String web(Map<String, Integer> pods) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """);
    pods.forEach((pod, podPort) -> yaml.append("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s
          namespace: default
          labels: {kubernetes.io/service-name: web}
        addressType: IPv4
        ports: [{name: http, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
          targetRef: {kind: Pod, name: %s, namespace: default}
        ---
        """.formatted(pod, podPort, pod)));
    return yaml.toString();
  }

  /** Starts {@code n} echo pods web-pod-0.. and returns their ports by name. */
  private Map<String, Integer> echoPods(int n) {
    fleet.service("default", "web", n);
    Map<String, Integer> pods = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      pods.put("web-pod-" + i, fleet.servers().get(i).port());
    }
    return pods;
  }

  private TestGateway serve(int listenerPort, String backends, String route, String policy) {
    try {
      Path dir = Files.createDirectories(directory.resolve("gw-" + listenerPort));
      TestGateway gateway = TestGateway.start(dir, "gateway.yaml", gatewayYaml(listenerPort),
          "backends.yaml", backends, "routes.yaml", route, "policy.yaml", policy);
      gateways.add(gateway);
      return gateway;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private HttpProbe.Response get(int listenerPort, String uri, String... headers) {
    MultiMap map = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < headers.length; i += 2) {
      map.add(headers[i], headers[i + 1]);
    }
    return probe.send(HttpMethod.GET, listenerPort, HOST, uri, map, null);
  }

  /** Returns "name=value" of the Set-Cookie called {@code name}, or null. */
  private static String setCookie(HttpProbe.Response response, String name) {
    for (String header : response.headers().getAll("set-cookie")) {
      if (header.startsWith(name + "=")) {
        return header;
      }
    }
    return null;
  }

  private static String pair(String setCookie) {
    int end = setCookie.indexOf(';');
    return end < 0 ? setCookie : setCookie.substring(0, end);
  }

  // --- least request, random, slow start --------------------------------------------------

  /** An HTTP server answering like an echo pod named {@code slow-pod}, after {@code delayMs}. */
  private int slowPod(long delayMs) {
    slowVertx = Vertx.vertx();
    HttpServer server = slowVertx.createHttpServer().requestHandler(request ->
        slowVertx.setTimer(delayMs, id -> request.response()
            .putHeader("content-type", "application/json")
            .end("{\"pod\":\"slow-pod\"}")));
    return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join()
        .actualPort();
  }

  /** Sends {@code clients} x {@code each} requests from concurrent clients; counts pods. */
  private Map<String, Integer> concurrently(int clients, int each, Function<Integer, String> uri)
      throws Exception {
    Map<String, Integer> pods = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int client = c;
        futures.add(pool.submit(() -> {
          for (int i = 0; i < each; i++) {
            HttpProbe.Response response = get(port, uri.apply(client));
            assertThat(response.status()).isEqualTo(200);
            pods.merge(response.pod(), 1, Integer::sum);
          }
        }));
      }
      for (Future<?> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    return new TreeMap<>(pods);
  }

  @Test
  void leastRequestSendsFewerRequestsToASlowPod() throws Exception {
    Map<String, Integer> pods = echoPods(2);
    pods.put("slow-pod", slowPod(60));
    serve(port, web(pods), appRoute(""), policy("loadBalancer: {type: LeastRequest}"));
    Map<String, Integer> counts = concurrently(6, 40, c -> "/");
    System.out.println("lb: LeastRequest, 6 concurrent clients x 40, one pod 60 ms slower -> "
        + counts);
    int slow = counts.getOrDefault("slow-pod", 0);
    assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(240);
    // Round robin would give each pod 80; the slow one must get clearly fewer.
    assertThat(slow).isLessThan(40);
    assertThat(counts.get("web-pod-0")).isGreaterThan(2 * slow);
    assertThat(counts.get("web-pod-1")).isGreaterThan(2 * slow);
  }

  @Test
  void roundRobinBaselineGivesTheSlowPodItsThird() throws Exception {
    Map<String, Integer> pods = echoPods(2);
    pods.put("slow-pod", slowPod(60));
    serve(port, web(pods), appRoute(""), policy("loadBalancer: {type: RoundRobin}"));
    Map<String, Integer> counts = concurrently(6, 20, c -> "/");
    System.out.println("lb: RoundRobin baseline, 6 concurrent clients x 20, one slow pod -> "
        + counts);
    assertThat(counts.get("slow-pod")).isBetween(25, 55);
  }

  @Test
  void randomSpreadsWithinTolerance() throws Exception {
    serve(port, web(echoPods(3)), appRoute(""), policy("loadBalancer: {type: Random}"));
    Map<String, Integer> counts = concurrently(4, 150, c -> "/");
    System.out.println("lb: Random, 600 requests over 3 pods -> " + counts);
    assertThat(counts).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(140, 260));
  }

  @Test
  void slowStartGivesANewPodASmallerShareDuringItsWindow() throws Exception {
    Map<String, Integer> pods = echoPods(4);
    Map<String, Integer> firstThree = new LinkedHashMap<>(pods);
    firstThree.remove("web-pod-3");
    TestGateway gateway = serve(port, web(firstThree), appRoute(""), policy("""
        loadBalancer:
          type: RoundRobin
          slowStart: {window: 10m}
        """));
    get(port, "/");
    gateway.replaceFile("backends.yaml", web(pods));
    TestGateway.awaitCondition("web-pod-3 serves", () -> {
      for (int i = 0; i < 40; i++) {
        if ("web-pod-3".equals(get(port, "/").pod())) {
          return true;
        }
      }
      return false;
    });
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < 600; i++) {
      counts.merge(get(port, "/").pod(), 1, Integer::sum);
    }
    System.out.println("lb: RoundRobin slowStart 10m, 600 requests just after web-pod-3 joined -> "
        + counts);
    int young = counts.getOrDefault("web-pod-3", 0);
    for (int i = 0; i < 3; i++) {
      assertThat(counts.get("web-pod-" + i)).isGreaterThan(3 * young);
    }

    // LeastRequest ramps the same way (sequential requests: nothing in flight, shares decide).
    long version = gateway.tableVersion();
    gateway.replaceFile("policy.yaml", policy("""
        loadBalancer:
          type: LeastRequest
          slowStart: {window: 10m}
        """));
    gateway.awaitTableAfter(version);
    Map<String, Integer> least = new TreeMap<>();
    for (int i = 0; i < 600; i++) {
      least.merge(get(port, "/").pod(), 1, Integer::sum);
    }
    System.out.println("lb: LeastRequest slowStart 10m, 600 requests -> " + least);
    int youngLeast = least.getOrDefault("web-pod-3", 0);
    for (int i = 0; i < 3; i++) {
      assertThat(least.get("web-pod-" + i)).isGreaterThan(3 * youngLeast);
    }
  }

  // --- stickiness ---------------------------------------------------------------------------

  /** How one simulated client carries its session between requests. */
  private interface Client {
    /** Sends the client's next request with what it learnt so far. */
    HttpProbe.Response send(int listenerPort);
  }

  /**
   * Runs {@code clients} clients x 10 requests; every client must stay on the pod of its first
   * answer. Returns how many clients each pod got.
   */
  private Map<String, Integer> stickiness(String what, int clients, Function<Integer, Client> make) {
    Map<String, Integer> perPod = new TreeMap<>();
    int requests = 0;
    for (int c = 0; c < clients; c++) {
      Client client = make.apply(c);
      String pod = null;
      for (int i = 0; i < 10; i++) {
        HttpProbe.Response response = client.send(port);
        assertThat(response.status()).isEqualTo(200);
        requests++;
        if (pod == null) {
          pod = response.pod();
        } else {
          assertThat(response.pod()).as("client " + c + " request " + i).isEqualTo(pod);
        }
      }
      perPod.merge(pod, 1, Integer::sum);
    }
    System.out.println("lb: " + what + ": " + requests + " requests from " + clients
        + " clients, every client kept its pod; clients per pod " + perPod);
    // Hash and round robin spread clients evenly: 33 each expected, about 5 standard deviations.
    assertThat(perPod).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(10, 60));
    return perPod;
  }

  /** A client that stores the cookie {@code name} whenever it is set and sends it back. */
  private Client cookieClient(String name) {
    String[] jar = new String[1];
    return listenerPort -> {
      HttpProbe.Response response = jar[0] == null ? get(listenerPort, "/")
          : get(listenerPort, "/", "Cookie", jar[0]);
      String set = setCookie(response, name);
      if (set != null) {
        assertThat(jar[0]).as("cookie set once").isNull();
        jar[0] = pair(set);
      }
      return response;
    };
  }

  @Test
  void policyCookieKeepsEveryClientOnItsPod() {
    serve(port, web(echoPods(3)), appRoute(""), policy("""
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: Cookie, cookie: {name: lb, ttl: 10m, attributes: {SameSite: Lax}}}
        """));
    stickiness("policy cookie", 100, c -> cookieClient("lb"));
    HttpProbe.Response fresh = get(port, "/");
    assertThat(setCookie(fresh, "lb"))
        .matches("lb=[0-9a-f]{16}; Max-Age=600; Path=/; HttpOnly; SameSite=Lax");
  }

  @Test
  void headersAndQueryParamsHashKeepEveryClientOnItsPod() {
    serve(port, web(echoPods(3)), appRoute(""), policy("""
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: Headers, headers: [{name: X-Tenant}, {name: X-User}]}
        """));
    stickiness("Headers hash (X-Tenant, X-User)", 100, c -> listenerPort ->
        get(listenerPort, "/", "X-Tenant", "t" + (c % 7), "X-User", "user-" + c));
    long version = gateways.get(0).tableVersion();
    gateways.get(0).replaceFile("policy.yaml", policy("""
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: QueryParams, queryParams: [{name: user}]}
        """));
    gateways.get(0).awaitTableAfter(version);
    TestGateway.awaitCondition("QueryParams policy", () -> {
      String pod = get(port, "/?user=a").pod();
      for (int i = 0; i < 6; i++) {
        if (!pod.equals(get(port, "/?user=a").pod())) {
          return false;
        }
      }
      return true;
    });
    stickiness("QueryParams hash (user)", 100, c -> listenerPort ->
        get(listenerPort, "/path?other=" + System.nanoTime() + "&user=u" + c));
  }

  private static String sessionRoute(String persistence) {
    return appRoute("  sessionPersistence: " + persistence + "\n");
  }

  @Test
  void sessionPersistenceCookieKeepsEveryClientOnItsPod() {
    serve(port, web(echoPods(3)), sessionRoute("{sessionName: sid}"), policy(
        "loadBalancer: {type: RoundRobin}"));
    stickiness("sessionPersistence cookie", 100, c -> cookieClient("sid"));
    HttpProbe.Response fresh = get(port, "/");
    // Session lifetime (the default): no Max-Age.
    assertThat(setCookie(fresh, "sid")).matches("sid=[0-9a-f]{16}\\.[0-9a-f]+; Path=/; HttpOnly");
  }

  @Test
  void sessionPersistenceHeaderKeepsEveryClientOnItsPod() {
    serve(port, web(echoPods(3)), sessionRoute("{sessionName: X-Session, type: Header}"),
        policy("loadBalancer: {type: Random}"));
    stickiness("sessionPersistence header", 100, c -> {
      String[] session = new String[1];
      return listenerPort -> {
        HttpProbe.Response response = session[0] == null ? get(listenerPort, "/")
            : get(listenerPort, "/", "X-Session", session[0]);
        String value = response.headers().get("x-session");
        assertThat(value).matches("[0-9a-f]{16}\\.[0-9a-f]+");
        if (session[0] != null) {
          assertThat(value).isEqualTo(session[0]);
        }
        session[0] = value;
        return response;
      };
    });
  }

  @Test
  void sessionPersistenceWinsOverThePolicyHashForExistingSessions() {
    serve(port, web(echoPods(3)), sessionRoute("{sessionName: sid}"), policy("""
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: Header, header: {name: X-User}}
        """));
    // New sessions follow the hash: one user always starts on the same pod.
    HttpProbe.Response first = get(port, "/", "X-User", "alice");
    String hashed = first.pod();
    for (int i = 0; i < 5; i++) {
      assertThat(get(port, "/", "X-User", "alice").pod()).isEqualTo(hashed);
    }
    // A session issued on another pod keeps the request there, whatever the hash says.
    String otherSession = null;
    String otherPod = null;
    for (int i = 0; otherSession == null && i < 100; i++) {
      HttpProbe.Response response = get(port, "/", "X-User", "user-" + i);
      if (!response.pod().equals(hashed)) {
        otherSession = pair(setCookie(response, "sid"));
        otherPod = response.pod();
      }
    }
    for (int i = 0; i < 20; i++) {
      HttpProbe.Response response = get(port, "/", "X-User", "alice", "Cookie", otherSession);
      assertThat(response.pod()).isEqualTo(otherPod);
      assertThat(setCookie(response, "sid")).isNull();
    }
  }

  @Test
  void permanentCookieCarriesMaxAgeAndIdleTimeoutRefreshesIt() {
    serve(port, web(echoPods(3)), sessionRoute("""
        {sessionName: cart, absoluteTimeout: 1h, idleTimeout: 10m, cookieConfig: {lifetimeType: Permanent}}"""),
        policy("loadBalancer: {type: RoundRobin}"));
    HttpProbe.Response first = get(port, "/");
    String set = setCookie(first, "cart");
    assertThat(set).matches("cart=[0-9a-f]{16}\\.[0-9a-f]+\\.[0-9a-f]+; Max-Age=600; Path=/; HttpOnly");
    for (int i = 0; i < 20; i++) {
      HttpProbe.Response again = get(port, "/", "Cookie", pair(set));
      assertThat(again.pod()).isEqualTo(first.pod());
      // The idle timeout is refreshed on every answer, same session start, same endpoint.
      String refreshed = setCookie(again, "cart");
      assertThat(refreshed).isNotNull().contains("Max-Age=600");
      assertThat(pair(refreshed).split("\\.")[0]).isEqualTo(pair(set).split("\\.")[0]);
      assertThat(pair(refreshed).split("\\.")[1]).isEqualTo(pair(set).split("\\.")[1]);
      set = refreshed;
    }
    // A session idle longer than the timeout starts over (the value says when it was touched).
    String endpoint = pair(set).substring("cart=".length(), "cart=".length() + 16);
    long longAgo = System.currentTimeMillis() / 1000 - 3600 * 2;
    String expired = "cart=" + endpoint + "." + Long.toHexString(longAgo) + "."
        + Long.toHexString(longAgo);
    HttpProbe.Response restarted = get(port, "/", "Cookie", expired);
    assertThat(pair(setCookie(restarted, "cart"))).isNotEqualTo(expired);
  }

  @Test
  void sessionsRepinWhenTheirPodLeavesAndTwoInstancesAgree() {
    Map<String, Integer> pods = echoPods(3);
    String route = sessionRoute("{sessionName: sid}");
    String lb = policy("loadBalancer: {type: RoundRobin}");
    TestGateway first = serve(port, web(pods), route, lb);
    serve(secondPort, web(pods), route, lb);
    // Two instances: a session issued by one is honoured by the other, cookie and header alike.
    Map<String, Integer> agreed = new TreeMap<>();
    for (int i = 0; i < 30; i++) {
      HttpProbe.Response issued = get(i % 2 == 0 ? port : secondPort, "/");
      String cookie = pair(setCookie(issued, "sid"));
      for (int j = 0; j < 5; j++) {
        HttpProbe.Response other = get(i % 2 == 0 ? secondPort : port, "/", "Cookie", cookie);
        assertThat(other.pod()).isEqualTo(issued.pod());
        assertThat(setCookie(other, "sid")).isNull();
      }
      agreed.merge(issued.pod(), 1, Integer::sum);
    }
    System.out.println("lb: sessionPersistence cookies honoured by the other instance: " + agreed);

    HttpProbe.Response issued = get(port, "/");
    String cookie = pair(setCookie(issued, "sid"));
    String gone = issued.pod();
    Map<String, Integer> remaining = new LinkedHashMap<>(pods);
    remaining.remove(gone);
    first.replaceFile("backends.yaml", web(remaining));
    TestGateway.awaitCondition(gone + " removed",
        () -> !gone.equals(get(port, "/", "Cookie", cookie).pod()));
    HttpProbe.Response moved = get(port, "/", "Cookie", cookie);
    String newCookie = pair(setCookie(moved, "sid"));
    Map<String, Integer> after = new TreeMap<>();
    for (int i = 0; i < 50; i++) {
      HttpProbe.Response response = get(port, "/", "Cookie", newCookie);
      assertThat(setCookie(response, "sid")).isNull();
      after.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("lb: after " + gone + " left, 50 requests with the re-pinned session -> "
        + after);
    assertThat(after).containsExactly(Map.entry(moved.pod(), 50));
  }

  @Test
  void headerSessionsAgreeAcrossInstances() {
    Map<String, Integer> pods = echoPods(3);
    String route = sessionRoute("{sessionName: X-Session, type: Header}");
    String lb = policy("loadBalancer: {type: LeastRequest}");
    serve(port, web(pods), route, lb);
    serve(secondPort, web(pods), route, lb);
    for (int i = 0; i < 20; i++) {
      HttpProbe.Response issued = get(port, "/");
      String session = issued.headers().get("x-session");
      for (int j = 0; j < 5; j++) {
        assertThat(get(secondPort, "/", "X-Session", session).pod()).isEqualTo(issued.pod());
      }
    }
  }

  // --- the cookie names the endpoint that answered -------------------------------------------

  @Test
  void cookieAfterARetryOnAnotherEndpointNamesTheOneThatAnswered() {
    Map<String, Integer> pods = new LinkedHashMap<>(echoPods(1));
    int dead = TestGateway.freePort();
    pods.put("dead-pod", dead);
    serve(port, web(pods), sessionRoute("{sessionName: sid}"), policy("""
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: Cookie, cookie: {name: lb}}
        """));
    String live = EndpointAffinity.cookieValue(new Endpoint("127.0.0.1", pods.get("web-pod-0")));
    String deadValue = EndpointAffinity.cookieValue(new Endpoint("127.0.0.1", dead));
    for (int i = 0; i < 20; i++) {
      // Round robin picks the dead endpoint every other time; the retry answers from the live one.
      HttpProbe.Response response = get(port, "/");
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.pod()).isEqualTo("web-pod-0");
      assertThat(pair(setCookie(response, "lb"))).isEqualTo("lb=" + live);
      assertThat(pair(setCookie(response, "sid"))).startsWith("sid=" + live + ".");
    }
    // A cookie naming the dead endpoint: the answer re-pins to the live one.
    HttpProbe.Response repinned = get(port, "/", "Cookie", "lb=" + deadValue);
    assertThat(repinned.status()).isEqualTo(200);
    assertThat(pair(setCookie(repinned, "lb"))).isEqualTo("lb=" + live);
    System.out.println("lb: 20 requests over a live and a refusing endpoint: every Set-Cookie"
        + " named the live one");
  }

  @Test
  void portico502CarriesNoSessionCookie() {
    Map<String, Integer> pods = Map.of("dead-pod", TestGateway.freePort());
    serve(port, web(pods), sessionRoute("{sessionName: sid}"), policy("""
        sessionAffinity:
          type: Cookie
          cookie: {name: session_id, ttl: 3600s}
        """));
    for (int i = 0; i < 5; i++) {
      HttpProbe.Response response = get(port, "/");
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.headers().getAll("set-cookie")).isEmpty();
    }
  }

  @Test
  void webSocketUpgradeAnswerCarriesTheAffinityCookie() throws Exception {
    Map<String, Integer> pods = echoPods(3);
    serve(port, web(pods), appRoute(""), policy("""
        sessionAffinity:
          type: Cookie
          cookie: {name: lb, ttl: 60s}
        """));
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /ws HTTP/1.1\r\nHost: " + HOST + "\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      StringBuilder head = new StringBuilder();
      java.io.InputStream in = socket.getInputStream();
      while (head.indexOf("\r\n\r\n") < 0) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.append((char) b);
      }
      assertThat(head.toString()).startsWith("HTTP/1.1 101")
          .containsPattern("(?i)set-cookie: lb=[0-9a-f]{16}; Max-Age=60; Path=/; HttpOnly");
    }
  }
}
