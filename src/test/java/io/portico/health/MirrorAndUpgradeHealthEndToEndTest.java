package io.portico.health;

import io.portico.echo.EchoServer;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.portico.testing.UpgradeProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.portico.health.HealthCheckEndToEndTest.gatewayYaml;
import static io.portico.health.HealthCheckEndToEndTest.policy;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Health checking beyond plain requests: RequestMirror copies go only to healthy endpoints of
 * the mirror's Service (panic included), and WebSocket upgrade attempts feed passive health
 * checking like any request.
 */
class MirrorAndUpgradeHealthEndToEndTest {

  private static final String HOST = "app.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final int port = TestGateway.freePort();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  private static String route(String name, String host, String rule) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: %s, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [%s]
          rules:
        %s---
        """.formatted(name, host, rule.indent(2));
  }

  /** Returns the state (Healthy, Unhealthy, Ejected) of the endpoint on {@code podPort}. */
  @SuppressWarnings("unchecked")
  private String state(String key, int podPort) {
    Map<String, Object> port = (Map<String, Object>) HealthRegistry.of(gateway.portico().vertx())
        .describe().get(key);
    if (port == null) {
      return null;
    }
    for (Map<String, Object> endpoint : (List<Map<String, Object>>) port.get("endpoints")) {
      if (endpoint.get("endpoint").equals("127.0.0.1:" + podPort)) {
        return (String) endpoint.get("state");
      }
    }
    return null;
  }

  private void awaitState(String key, EchoServer pod, String state) {
    TestGateway.awaitCondition("pod on " + pod.port() + " " + state,
        () -> state.equals(state(key, pod.port())));
  }

  /** Counts the requests each pod received whose URI starts with {@code prefix}. */
  private static Map<Integer, Integer> received(List<EchoServer> pods, String prefix) {
    Map<Integer, Integer> counts = new TreeMap<>();
    for (int i = 0; i < pods.size(); i++) {
      counts.put(i, (int) pods.get(i).receivedUris().stream().filter(u -> u.startsWith(prefix))
          .count());
    }
    return counts;
  }

  private static int sum(Map<Integer, Integer> counts) {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  void mirrorsGoOnlyToHealthyEndpointsAndToAllInPanic() {
    fleet.service("default", "real", 1).service("default", "shadow", 3);
    List<EchoServer> shadow = fleet.servers().subList(1, 4);
    // The shadow Service is health checked through the route that serves it directly; the
    // mirror filter of another route sees the same verdict.
    String routes = route("app", HOST, """
        - filters:
          - type: RequestMirror
            requestMirror: {backendRef: {name: shadow, port: 80}}
          backendRefs: [{name: real, port: 80}]
        """) + route("shadow", "shadow.example.com", """
        - backendRefs: [{name: shadow, port: 80}]
        """) + policy("shadow", """
        active:
          type: HTTP
          interval: 100ms
          timeout: 500ms
          unhealthyThreshold: 2
          healthyThreshold: 2
          http: {path: /health, expectedStatuses: [200]}
        """);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routes);
    String key = "Service/default/shadow:80";
    awaitState(key, shadow.get(1), "Healthy");
    shadow.get(1).setHealthStatus(503);
    awaitState(key, shadow.get(1), "Unhealthy");

    for (int i = 0; i < 150; i++) {
      assertThat(probe.get(port, HOST, "/mirrored/" + i).pod()).isEqualTo("real-pod-0");
    }
    TestGateway.awaitCondition("150 mirrored copies",
        () -> sum(received(shadow, "/mirrored/")) == 150);
    Map<Integer, Integer> healthy = received(shadow, "/mirrored/");
    System.out.println("mirror health: shadow-pod-1 failing /health, 150 mirrored requests -> "
        + healthy);
    assertThat(healthy.get(1)).isZero();
    assertThat(healthy.get(0)).isBetween(50, 100);
    assertThat(healthy.get(2)).isBetween(50, 100);

    // Panic (default threshold 50%): with no healthy pod left, mirrors use every pod again.
    shadow.get(0).setHealthStatus(503);
    shadow.get(2).setHealthStatus(503);
    awaitState(key, shadow.get(0), "Unhealthy");
    awaitState(key, shadow.get(2), "Unhealthy");
    for (int i = 0; i < 150; i++) {
      probe.get(port, HOST, "/panic/" + i);
    }
    TestGateway.awaitCondition("150 mirrored copies in panic",
        () -> sum(received(shadow, "/panic/")) == 150);
    Map<Integer, Integer> panic = received(shadow, "/panic/");
    System.out.println("mirror health: all shadow pods failing /health (panic), 150 mirrored"
        + " requests -> " + panic);
    assertThat(panic.values()).allSatisfy(n -> assertThat(n).isBetween(30, 70));
  }

  @Test
  void upgradeConnectFailuresEjectAKilledPod() {
    fleet.service("default", "web", 3);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", HOST, """
            - backendRefs: [{name: web, port: 80}]
            """) + policy("app", """
            passive:
              interval: 100ms
              splitExternalLocalOriginErrors: true
              consecutiveLocalOriginFailures: 2
              baseEjectionTime: 30s
            """));
    String key = "Service/default/web:80";
    EchoServer killed = fleet.servers().get(1);
    killed.close().toCompletionStage().toCompletableFuture().join();
    // Only upgrade attempts reach the pods (the echo pods' /ws switches: 101, a success). A
    // refused connect is Portico's 502 and a local-origin failure.
    Map<Integer, Integer> statuses = new TreeMap<>();
    int attempts = 0;
    while (!"Ejected".equals(state(key, killed.port())) && attempts < 30) {
      statuses.merge(UpgradeProbe.upgrade(port, HOST, "/ws").status(), 1, Integer::sum);
      attempts++;
    }
    System.out.println("upgrade health: web-pod-1 killed, " + attempts
        + " upgrade attempts until ejected -> statuses " + statuses);
    assertThat(state(key, killed.port())).isEqualTo("Ejected");
    assertThat(statuses.get(502)).isEqualTo(2);

    Map<Integer, Integer> after = new TreeMap<>();
    for (int i = 0; i < 30; i++) {
      after.merge(UpgradeProbe.upgrade(port, HOST, "/ws").status(), 1, Integer::sum);
    }
    System.out.println("upgrade health: after ejection, 30 upgrade attempts -> " + after);
    assertThat(after).containsOnlyKeys(101);
  }

  @Test
  void upgradeRefused503CountsAsAGatewayError() {
    fleet.service("default", "web", 3);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", HOST, """
            - backendRefs: [{name: web, port: 80}]
            """) + policy("app", """
            passive:
              interval: 100ms
              consecutiveGatewayErrors: 3
              consecutive5XxErrors: 0
              baseEjectionTime: 30s
            """));
    String key = "Service/default/web:80";
    EchoServer sick = fleet.servers().get(2);
    sick.setFaultStatus(503);
    // Not /ws: the sick pod answers 503 to the upgrade, the others 200 (an echo, no switch).
    Map<Integer, Integer> statuses = new TreeMap<>();
    int attempts = 0;
    while (!"Ejected".equals(state(key, sick.port())) && attempts < 30) {
      statuses.merge(UpgradeProbe.upgrade(port, HOST, "/chat").status(), 1, Integer::sum);
      attempts++;
    }
    System.out.println("upgrade health: web-pod-2 answering 503, " + attempts
        + " upgrade attempts until ejected -> statuses " + statuses);
    assertThat(state(key, sick.port())).isEqualTo("Ejected");
    assertThat(statuses.get(503)).isEqualTo(3);
    assertThat(state(key, fleet.servers().get(0).port())).isEqualTo("Healthy");
  }
}
