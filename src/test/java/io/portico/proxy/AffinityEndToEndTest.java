package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Session affinity from an Envoy Gateway BackendTrafficPolicy, against three real echo pods and
 * (for "across replicas") two Portico instances serving the same endpoints.
 */
class AffinityEndToEndTest {

  private static final String HOST = "app.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway first;
  private TestGateway second;
  private final int port = TestGateway.freePort();
  private final int secondPort = TestGateway.freePort();

  @AfterEach
  void stop() {
    if (first != null) {
      first.close();
    }
    if (second != null) {
      second.close();
    }
    fleet.close();
  }

  private static String policy(String spec) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: sticky, namespace: default}
        spec:
        %s""".formatted(spec.indent(2));
  }

  private static final String COOKIE_POLICY = policy("""
      targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
      sessionAffinity:
        type: Cookie
        cookie: {name: session_id, ttl: 3600s}
      """);

  private static final String ROUTE = route("app", HOST, """
      - backendRefs: [{name: web, port: 80}]
      """);

  /** Starts one Portico (and a second on its own directory and port when {@code two}). */
  private void serve(String policy, boolean two) throws Exception {
    serve(policy, two, ROUTE);
  }

  private void serve(String policy, boolean two, String route) throws Exception {
    fleet.service("default", "web", 3);
    Files.createDirectories(directory.resolve("a"));
    Files.createDirectories(directory.resolve("b"));
    first = TestGateway.start(directory.resolve("a"), "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route, "policy.yaml", policy);
    if (two) {
      second = TestGateway.start(directory.resolve("b"), "gateway.yaml", gatewayYaml(secondPort),
          "backends.yaml", fleet.yaml(), "routes.yaml", route, "policy.yaml", policy);
    }
  }

  private HttpProbe.Response get(int port, String... headers) {
    MultiMap map = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < headers.length; i += 2) {
      map.add(headers[i], headers[i + 1]);
    }
    return probe.send(HttpMethod.GET, port, HOST, "/", map, null);
  }

  private static String cookieValue(HttpProbe.Response response) {
    String setCookie = response.headers().get("set-cookie");
    assertThat(setCookie).as("Set-Cookie").isNotNull();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  @Test
  void cookieIsSetOnceWithSafeAttributesAndPinsThePod() throws Exception {
    serve(COOKIE_POLICY, false);
    Map<String, Integer> newSessions = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      HttpProbe.Response response = get(port);
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers().get("set-cookie")).matches(
          "session_id=[0-9a-f]{16}; Max-Age=3600; Path=/; HttpOnly");
      newSessions.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("affinity: 300 new cookie sessions over 3 pods: " + newSessions);
    assertThat(newSessions).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(90, 110));

    HttpProbe.Response firstResponse = get(port);
    String cookie = cookieValue(firstResponse);
    String pod = firstResponse.pod();
    Map<String, Integer> pinned = new TreeMap<>();
    for (int i = 0; i < 200; i++) {
      HttpProbe.Response response = get(port, "Cookie", "other=1; " + cookie);
      assertThat(response.headers().get("set-cookie")).as("set once").isNull();
      pinned.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("affinity: 200 requests with " + cookie + " -> " + pinned);
    assertThat(pinned).containsExactly(Map.entry(pod, 200));
  }

  @Test
  void weightsHoldForNewSessionsAndCookiesHoldAcrossTheSplit() throws Exception {
    fleet.service("default", "api", 1);
    serve(COOKIE_POLICY, false, route("app", HOST, """
        - backendRefs:
          - {name: web, port: 80, weight: 80}
          - {name: api, port: 80, weight: 20}
        """));
    Map<String, Integer> newSessions = new TreeMap<>();
    String apiCookie = null;
    String webCookie = null;
    String webPod = null;
    for (int i = 0; i < 500; i++) {
      HttpProbe.Response response = get(port);
      newSessions.merge(response.pod(), 1, Integer::sum);
      if (response.pod().startsWith("api")) {
        apiCookie = cookieValue(response);
      } else {
        webCookie = cookieValue(response);
        webPod = response.pod();
      }
    }
    System.out.println("affinity: 80/20 split, 500 new cookie sessions -> " + newSessions);
    int api = newSessions.getOrDefault("api-pod-0", 0);
    assertThat(api).isBetween(90, 110);
    Map<String, Integer> pinned = new TreeMap<>();
    for (int i = 0; i < 100; i++) {
      HttpProbe.Response toApi = get(port, "Cookie", apiCookie);
      HttpProbe.Response toWeb = get(port, "Cookie", webCookie);
      assertThat(toApi.headers().get("set-cookie")).isNull();
      assertThat(toWeb.headers().get("set-cookie")).isNull();
      pinned.merge(toApi.pod(), 1, Integer::sum);
      pinned.merge(toWeb.pod(), 1, Integer::sum);
    }
    System.out.println("affinity: 80/20 split, 100 requests each with an api and a web cookie -> "
        + pinned);
    assertThat(pinned).containsOnly(Map.entry("api-pod-0", 100), Map.entry(webPod, 100));
  }

  @Test
  void twoInstancesSendTheSameCookieToTheSamePod() throws Exception {
    serve(COOKIE_POLICY, true);
    Map<String, Integer> agreements = new TreeMap<>();
    for (int i = 0; i < 30; i++) {
      // Alternate which instance issues the cookie; the other must honour it.
      int issuer = i % 2 == 0 ? port : secondPort;
      int other = i % 2 == 0 ? secondPort : port;
      HttpProbe.Response issued = get(issuer);
      String cookie = cookieValue(issued);
      for (int j = 0; j < 5; j++) {
        HttpProbe.Response response = get(other, "Cookie", cookie);
        assertThat(response.pod()).isEqualTo(issued.pod());
        assertThat(response.headers().get("set-cookie")).isNull();
      }
      agreements.merge(issued.pod(), 1, Integer::sum);
    }
    System.out.println("affinity: cookies honoured by the other instance, per pod: " + agreements);
  }

  @Test
  void repinsWhenThePinnedPodLeaves() throws Exception {
    serve(COOKIE_POLICY, false);
    HttpProbe.Response issued = get(port);
    String cookie = cookieValue(issued);
    String gone = issued.pod();

    long version = first.tableVersion();
    String remaining = Arrays.stream(fleet.yaml().split("(?m)^---\n"))
        .filter(doc -> !doc.contains("name: " + gone + "\n"))
        .collect(Collectors.joining("---\n"));
    first.replaceFile("backends.yaml", remaining);
    TestGateway.awaitCondition("endpoint " + gone + " removed", () -> {
      HttpProbe.Response r = get(port, "Cookie", cookie);
      return !gone.equals(r.pod());
    });
    HttpProbe.Response moved = get(port, "Cookie", cookie);
    assertThat(moved.pod()).isNotEqualTo(gone);
    String newCookie = cookieValue(moved);
    assertThat(newCookie).isNotEqualTo(cookie);
    Map<String, Integer> after = new TreeMap<>();
    for (int i = 0; i < 100; i++) {
      HttpProbe.Response response = get(port, "Cookie", newCookie);
      assertThat(response.headers().get("set-cookie")).isNull();
      after.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("affinity: after " + gone + " left, 100 requests with the new cookie -> "
        + after);
    assertThat(after).containsExactly(Map.entry(moved.pod(), 100));
    assertThat(first.tableVersion()).isGreaterThanOrEqualTo(version);
  }

  @Test
  void headerHashAgreesAcrossInstances() throws Exception {
    serve(policy("""
        targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
        loadBalancer:
          type: ConsistentHash
          consistentHash: {type: Header, header: {name: X-User}}
        """), true);
    Map<String, Integer> spread = new TreeMap<>();
    for (int user = 0; user < 200; user++) {
      String pod = get(port, "X-User", "user-" + user).pod();
      assertThat(get(port, "X-User", "user-" + user).pod()).isEqualTo(pod);
      assertThat(get(secondPort, "X-User", "user-" + user).pod()).isEqualTo(pod);
      spread.merge(pod, 1, Integer::sum);
    }
    System.out.println("affinity: 200 header keys over 3 pods (same on both instances): " + spread);
    assertThat(spread).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(40, 95));
    assertThat(get(port).headers().get("set-cookie")).isNull();
  }

  @Test
  void sourceIpHashAgreesAcrossInstances() throws Exception {
    serve(policy("""
        targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
        sessionAffinity: {type: SourceIP}
        """), true);
    Map<String, Integer> pods = new TreeMap<>();
    for (int i = 0; i < 100; i++) {
      pods.merge(get(port).pod(), 1, Integer::sum);
      pods.merge(get(secondPort).pod(), 1, Integer::sum);
    }
    System.out.println("affinity: 200 requests from 127.0.0.1 over two instances -> " + pods);
    assertThat(pods).hasSize(1);
  }

  @Test
  void randomSpreadsOverEveryPod() throws Exception {
    serve(policy("""
        targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
        loadBalancer: {type: Random}
        """), false);
    Map<String, Integer> pods = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      pods.merge(get(port).pod(), 1, Integer::sum);
    }
    System.out.println("affinity: Random, 300 requests -> " + pods);
    assertThat(pods).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(60, 140));
  }
}
