package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * EndpointSlice changes take the fast path: new endpoints reach the proxies without re-running
 * route translation, and nothing is lost on the way (a new pod serves, a terminating or removed
 * one stops getting requests). A Service change, which can change route status, is translated.
 */
class EndpointFastPathTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway gateway;
  private final int port = TestGateway.freePort();

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  private static final String SERVICE = """
      apiVersion: v1
      kind: Service
      metadata: {name: blue, namespace: default}
      spec:
        ports: [{name: http, port: 80, targetPort: http}]
      """;

  /** One EndpointSlice per pod, with the given conditions (YAML flow mapping). */
  private static String slice(String pod, int port, String conditions) {
    return """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s
          namespace: default
          labels: {kubernetes.io/service-name: blue}
        addressType: IPv4
        ports: [{name: http, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: %s
        ---
        """.formatted(pod, port, conditions);
  }

  private long endpointsVersion() {
    return gateway.portico().state().endpoints().version();
  }

  private long awaitEndpointsAfter(long version) {
    TestGateway.awaitCondition("endpoints version > " + version,
        () -> endpointsVersion() > version);
    return endpointsVersion();
  }

  private Set<String> podsOf(int requests) {
    Set<String> pods = new HashSet<>();
    for (int i = 0; i < requests; i++) {
      HttpProbe.Response response = probe.get(port, "app.example.com", "/");
      assertThat(response.status()).isEqualTo(200);
      pods.add(response.pod());
    }
    return pods;
  }

  /** Service blue with pods 0 and 1 running, only pod 0 in its slice, and route app to it. */
  private void startWithTwoPodsOneListed() {
    fleet.service("default", "blue", 2);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "service.yaml", SERVICE,
        "slices.yaml", slice("blue-pod-0", fleet.servers().get(0).port(), "{ready: true}"),
        "routes.yaml", route("app", "app.example.com", """
            - backendRefs: [{name: blue, port: 80}]
            """));
  }

  @Test
  void endpointChangesSkipTranslationAndLoseNothing() {
    startWithTwoPodsOneListed();
    int pod0 = fleet.servers().get(0).port();
    int pod1 = fleet.servers().get(1).port();
    assertThat(podsOf(4)).containsOnly("blue-pod-0");
    long translations = gateway.portico().translations();
    long table = gateway.tableVersion();
    long endpoints = endpointsVersion();

    // A new pod: served, without a translation and without a new table.
    gateway.replaceFile("slices.yaml", slice("blue-pod-0", pod0, "{ready: true}")
        + slice("blue-pod-1", pod1, "{ready: true}"));
    endpoints = awaitEndpointsAfter(endpoints);
    TestGateway.awaitCondition("blue-pod-1 serves",
        () -> "blue-pod-1".equals(probe.get(port, "app.example.com", "/").pod()));
    assertThat(podsOf(6)).containsOnly("blue-pod-0", "blue-pod-1");

    // The first pod terminates (still serving its in-flight requests): no new request for it.
    gateway.replaceFile("slices.yaml", slice("blue-pod-0", pod0, "{serving: true, terminating: true}")
        + slice("blue-pod-1", pod1, "{ready: true}"));
    endpoints = awaitEndpointsAfter(endpoints);
    assertThat(gateway.portico().state().endpoints().value().endpoints().values())
        .allSatisfy(list -> assertThat(list).noneMatch(e -> e.port() == pod0));
    long pod0Requests = fleet.servers().get(0).requestCount();
    assertThat(podsOf(6)).containsOnly("blue-pod-1");
    assertThat(fleet.servers().get(0).requestCount()).isEqualTo(pod0Requests);

    // The second pod removed, the first one back (no conditions: ready): still no translation.
    gateway.replaceFile("slices.yaml", slice("blue-pod-0", pod0, "{}"));
    awaitEndpointsAfter(endpoints);
    TestGateway.awaitCondition("blue-pod-0 serves again",
        () -> "blue-pod-0".equals(probe.get(port, "app.example.com", "/").pod()));
    long pod1Requests = fleet.servers().get(1).requestCount();
    assertThat(podsOf(4)).containsOnly("blue-pod-0");
    assertThat(fleet.servers().get(1).requestCount()).isEqualTo(pod1Requests);

    assertThat(gateway.portico().translations()).isEqualTo(translations);
    assertThat(gateway.tableVersion()).isEqualTo(table);
  }

  @Test
  void aRequestInFlightToAPodThatTerminatesAndLeavesFinishes() throws Exception {
    startWithTwoPodsOneListed();
    int pod0 = fleet.servers().get(0).port();
    int pod1 = fleet.servers().get(1).port();
    long endpoints = endpointsVersion();

    // A slow request reaches pod 0; a rolling update then replaces pod 0 with pod 1 (pod 1
    // ready, pod 0 terminating) while the request is in flight: pod 0 leaves the endpoints the
    // proxies pick from, but its connection carrying the request is not closed.
    long arrived = fleet.servers().get(0).requestCount();
    java.util.concurrent.CompletableFuture<HttpProbe.Response> slow;
    try (HttpProbe slowProbe = new HttpProbe()) {
      slow = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> slowProbe.get(port, "app.example.com", "/?delay=2s"));
      TestGateway.awaitCondition("the slow request reached pod 0",
          () -> fleet.servers().get(0).requestCount() > arrived);
      gateway.replaceFile("slices.yaml", slice("blue-pod-0", pod0,
          "{ready: false, serving: false, terminating: true}")
          + slice("blue-pod-1", pod1, "{ready: true}"));
      awaitEndpointsAfter(endpoints);
      assertThat(podsOf(4)).containsOnly("blue-pod-1");
      assertThat(slow).isNotDone();

      HttpProbe.Response answer = slow.get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.pod()).isEqualTo("blue-pod-0");
    }
  }

  @Test
  void serviceThatAppearsIsTranslatedAndChangesRouteStatus() {
    fleet.service("default", "blue", 1);
    int pod0 = fleet.servers().get(0).port();
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "slices.yaml", slice("blue-pod-0", pod0, "{ready: true}"),
        "routes.yaml", route("app", "app.example.com", """
            - backendRefs: [{name: blue, port: 80}]
            """));
    assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(500);
    long translations = gateway.portico().translations();
    long table = gateway.tableVersion();

    gateway.replaceFile("service.yaml", SERVICE);
    gateway.awaitTableAfter(table);

    assertThat(gateway.portico().translations()).isGreaterThan(translations);
    assertThat(gateway.portico().state().status().toString()).doesNotContain("BackendNotFound");
    TestGateway.awaitCondition("blue-pod-0 serves",
        () -> "blue-pod-0".equals(probe.get(port, "app.example.com", "/").pod()));
  }
}
