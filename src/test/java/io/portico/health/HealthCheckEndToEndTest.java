package io.portico.health;

import io.portico.echo.EchoServer;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Active and passive health checking from an Envoy Gateway BackendTrafficPolicy, against real
 * echo pods whose {@code /health} (active) or every answer (passive) a test can make fail.
 * Short intervals; every wait polls the registry's published state.
 */
class HealthCheckEndToEndTest {

  private static final String HOST = "app.example.com";
  private static final String KEY = "Service/default/web:80";

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

  static String gatewayYaml(int port) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, protocol: HTTP, port: %d}]
        """.formatted(port);
  }

  static String route(String name, String host) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: %s, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [%s]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        ---
        """.formatted(name, host);
  }

  static String policy(String route, String healthCheck) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: health-%s, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: %s}
          healthCheck:
        %s
        ---
        """.formatted(route, route, healthCheck.indent(4));
  }

  private static final String ACTIVE_HTTP = """
      active:
        type: HTTP
        interval: 100ms
        timeout: 500ms
        unhealthyThreshold: 2
        healthyThreshold: 2
        http: {path: /health, expectedStatuses: [200]}
      """;

  private void serve(String routesAndPolicies, String extraBackends) {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml() + extraBackends, "routes.yaml", routesAndPolicies);
  }

  private HealthRegistry registry() {
    return HealthRegistry.of(gateway.portico().vertx());
  }

  /** Returns the state (Healthy, Unhealthy, Ejected) of the endpoint on {@code podPort}. */
  @SuppressWarnings("unchecked")
  private String state(int podPort) {
    Map<String, Object> web = (Map<String, Object>) registry().describe().get(KEY);
    if (web == null) {
      return null;
    }
    for (Map<String, Object> endpoint : (List<Map<String, Object>>) web.get("endpoints")) {
      if (endpoint.get("endpoint").equals("127.0.0.1:" + podPort)) {
        return (String) endpoint.get("state");
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  private boolean panic() {
    Map<String, Object> web = (Map<String, Object>) registry().describe().get(KEY);
    return web != null && Boolean.TRUE.equals(web.get("panic"));
  }

  private void awaitState(EchoServer pod, String state) {
    TestGateway.awaitCondition("pod on " + pod.port() + " " + state,
        () -> state.equals(state(pod.port())));
  }

  /** Sends {@code n} requests and counts the answers by pod (by status when not an echo). */
  private Map<String, Integer> spread(String host, int n) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      HttpProbe.Response response = probe.get(port, host, "/");
      String pod = response.pod();
      counts.merge(pod != null ? pod : "status-" + response.status(), 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void activeHttpCheckTakesASickPodOutAndBringsItBack() {
    fleet.service("default", "web", 3);
    serve(route("app", HOST) + policy("app", ACTIVE_HTTP), "");
    EchoServer sick = fleet.servers().get(1);
    awaitState(sick, "Healthy");
    sick.setHealthStatus(503);
    awaitState(sick, "Unhealthy");
    Map<String, Integer> during = spread(HOST, 200);
    System.out.println("health: active HTTP, web-pod-1 failing /health, 200 requests -> " + during);
    assertThat(during).containsOnlyKeys("web-pod-0", "web-pod-2");
    assertThat(during.values()).allSatisfy(n -> assertThat(n).isBetween(80, 120));

    sick.setHealthStatus(200);
    awaitState(sick, "Healthy");
    Map<String, Integer> after = spread(HOST, 300);
    System.out.println("health: active HTTP, web-pod-1 healthy again, 300 requests -> " + after);
    assertThat(after).containsOnlyKeys("web-pod-0", "web-pod-1", "web-pod-2");
    assertThat(after.values()).allSatisfy(n -> assertThat(n).isBetween(80, 120));
  }

  @Test
  void tcpCheckMarksAClosedPortUnhealthy() {
    fleet.service("default", "web", 2);
    int closed = TestGateway.freePort();
    String deadSlice = """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-dead
          namespace: default
          labels: {kubernetes.io/service-name: web}
        addressType: IPv4
        ports: [{name: http, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        ---
        """.formatted(closed);
    serve(route("app", HOST) + policy("app", """
        active:
          type: TCP
          interval: 100ms
          timeout: 500ms
          unhealthyThreshold: 1
          tcp: {}
        """), deadSlice);
    TestGateway.awaitCondition("closed port unhealthy", () -> "Unhealthy".equals(state(closed)));
    assertThat(state(fleet.servers().get(0).port())).isEqualTo("Healthy");
    Map<String, Integer> counts = spread(HOST, 200);
    System.out.println("health: TCP check, one endpoint on a closed port, 200 requests -> "
        + counts);
    assertThat(counts).containsOnlyKeys("web-pod-0", "web-pod-1");
  }

  @Test
  void passiveChecksEjectAPodAnswering5xxAndReadmitItAfterTheEjectionTime() {
    fleet.service("default", "web", 3);
    serve(route("app", HOST) + policy("app", """
        passive:
          interval: 100ms
          consecutive5XxErrors: 3
          baseEjectionTime: 3s
          maxEjectionPercent: 50
        """), "");
    EchoServer sick = fleet.servers().get(2);
    sick.setFaultStatus(500);
    TestGateway.awaitCondition("web-pod-2 ejected", () -> {
      probe.get(port, HOST, "/");
      return "Ejected".equals(state(sick.port()));
    });
    Map<String, Integer> during = spread(HOST, 200);
    System.out.println("health: passive, web-pod-2 answering 500, 200 requests after ejection -> "
        + during);
    assertThat(during).containsOnlyKeys("web-pod-0", "web-pod-1");

    sick.setFaultStatus(0);
    awaitState(sick, "Healthy");
    Map<String, Integer> after = spread(HOST, 300);
    System.out.println("health: passive, after baseEjectionTime, 300 requests -> " + after);
    assertThat(after).containsOnlyKeys("web-pod-0", "web-pod-1", "web-pod-2");
  }

  @Test
  void aKilledPodIsEjectedByConnectFailuresWithoutFailingRequests() {
    fleet.service("default", "web", 3);
    serve(route("app", HOST) + policy("app", """
        passive:
          interval: 100ms
          consecutive5XxErrors: 3
          baseEjectionTime: 30s
        """), "");
    EchoServer killed = fleet.servers().get(1);
    killed.close().toCompletionStage().toCompletableFuture().join();
    // A refused connection is tried once more on another endpoint, so no request fails, and
    // counts as a local-origin failure (a gateway error, errors unsplit) towards ejection.
    Map<String, Integer> counts = spread(HOST, 200);
    System.out.println("health: passive, web-pod-1 killed, 200 requests -> " + counts
        + ", state " + state(killed.port()));
    assertThat(counts).containsOnlyKeys("web-pod-0", "web-pod-2");
    assertThat(state(killed.port())).isEqualTo("Ejected");
  }

  @Test
  void maxEjectionPercentCapsHowManyPodsAreEjected() {
    fleet.service("default", "web", 4);
    serve(route("app", HOST) + policy("app", """
        passive:
          interval: 100ms
          consecutive5XxErrors: 2
          baseEjectionTime: 10s
          maxEjectionPercent: 50
        """), "");
    List<EchoServer> pods = fleet.servers();
    pods.forEach(pod -> pod.setFaultStatus(500));
    Map<String, Integer> counts = spread(HOST, 100);
    long ejected = pods.stream().filter(pod -> "Ejected".equals(state(pod.port()))).count();
    System.out.println("health: passive, 4 pods all answering 500, maxEjectionPercent 50, "
        + "100 requests -> " + counts + ", ejected " + ejected);
    assertThat(ejected).isEqualTo(2);
    assertThat(counts).containsOnlyKeys("status-500");
  }

  @Test
  void panicSpreadsTrafficOverAllPodsWhenAllAreUnhealthy() {
    fleet.service("default", "web", 3);
    int admin = TestGateway.freePort();
    gateway = TestGateway.start(directory, options -> options.withAdmin("127.0.0.1", admin),
        "gateway.yaml", gatewayYaml(port), "backends.yaml", fleet.yaml(),
        "routes.yaml", route("app", HOST) + policy("app", ACTIVE_HTTP));
    fleet.servers().forEach(pod -> pod.setHealthStatus(500));
    fleet.servers().forEach(pod -> awaitState(pod, "Unhealthy"));
    assertThat(panic()).isTrue();
    Map<String, Integer> counts = spread(HOST, 300);
    System.out.println("health: all 3 pods unhealthy (panic), 300 requests -> " + counts);
    assertThat(counts).containsOnlyKeys("web-pod-0", "web-pod-1", "web-pod-2");
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(80, 120));

    HttpProbe.Response health = probe.get(admin, "127.0.0.1", "/config/health");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.body()).contains(KEY, "panic: true", "state: \"Unhealthy\"",
        "failed probe(s)");
  }

  @Test
  void panicThresholdZeroAnswers503WhenNoPodIsHealthy() {
    fleet.service("default", "web", 2);
    serve(route("app", HOST) + policy("app", "panicThreshold: 0\n" + ACTIVE_HTTP), "");
    fleet.servers().forEach(pod -> pod.setHealthStatus(500));
    fleet.servers().forEach(pod -> awaitState(pod, "Unhealthy"));
    Map<String, Integer> counts = spread(HOST, 20);
    System.out.println("health: panicThreshold 0, no healthy pod, 20 requests -> " + counts);
    assertThat(counts).containsOnlyKeys("status-503");
  }

  @Test
  void grpcCheckFollowsTheServingStatus() {
    Vertx vertx = Vertx.vertx();
    try {
      // A gRPC health server (cleartext HTTP/2): SERVING (1) or NOT_SERVING (2) for service "web".
      AtomicInteger serving = new AtomicInteger(1);
      AtomicReference<String> askedFor = new AtomicReference<>();
      HttpServer grpc = vertx.createHttpServer(new HttpServerOptions()
              .setHttp2ClearTextEnabled(true))
          .requestHandler(request -> request.body().onSuccess(body -> {
            askedFor.set(request.path() + " " + body.getString(7, body.length()));
            request.response().putHeader("content-type", "application/grpc")
                .write(Buffer.buffer(new byte[] {0, 0, 0, 0, 2, 8, (byte) serving.get()}));
            request.response().putTrailer("grpc-status", "0").end();
          }));
      int grpcPort = grpc.listen(0, "127.0.0.1").await().actualPort();
      fleet.serviceAt("default", "web", grpcPort, true);
      serve(route("app", HOST) + policy("app", """
          active:
            type: GRPC
            interval: 100ms
            timeout: 2s
            unhealthyThreshold: 1
            grpc: {service: web}
          """), "");
      TestGateway.awaitCondition("SERVING", () -> askedFor.get() != null);
      assertThat(askedFor.get()).isEqualTo("/grpc.health.v1.Health/Check web");
      // The server saw the check before the prober read its answer: wait for the verdict (a
      // 500 ms timeout once expired on a loaded machine and marked the endpoint unhealthy).
      TestGateway.awaitCondition("Healthy", () -> "Healthy".equals(state(grpcPort)));
      serving.set(2);
      TestGateway.awaitCondition("NOT_SERVING", () -> "Unhealthy".equals(state(grpcPort)));
      serving.set(1);
      TestGateway.awaitCondition("SERVING again", () -> "Healthy".equals(state(grpcPort)));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void twoRoutesToTheSameServiceShareTheVerdict() {
    fleet.service("default", "web", 3);
    // Only route "a" carries the policy; route "b" reaches the same Service port.
    serve(route("a", "a.example.com") + route("b", "b.example.com")
        + policy("a", ACTIVE_HTTP), "");
    EchoServer sick = fleet.servers().get(0);
    sick.setHealthStatus(503);
    awaitState(sick, "Unhealthy");
    Map<String, Integer> a = spread("a.example.com", 100);
    Map<String, Integer> b = spread("b.example.com", 100);
    System.out.println("health: shared verdict, web-pod-0 sick: route a -> " + a + ", route b -> "
        + b);
    assertThat(a).containsOnlyKeys("web-pod-1", "web-pod-2");
    assertThat(b).containsOnlyKeys("web-pod-1", "web-pod-2");
  }
}
