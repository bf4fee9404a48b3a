package io.portico.proxy;

import io.portico.resource.ConfigProblem;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/** Configuration changes while serving: no request fails, bad input changes nothing. */
class HotReloadTest {

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

  private static String routeTo(String service) {
    return route("app", "app.example.com", """
        - backendRefs: [{name: %s, port: 80}]
        """.formatted(service));
  }

  @Test
  void reloadsUnderLoadFailNoRequest() throws Exception {
    fleet.service("default", "blue", 2).service("default", "green", 2);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routeTo("blue"));

    AtomicBoolean loading = new AtomicBoolean(true);
    Map<String, Integer> outcomes = new ConcurrentHashMap<>();
    ExecutorService clients = Executors.newFixedThreadPool(4);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      workers.add(clients.submit(() -> {
        // Bounded: at most 2,000 requests per worker, and only while reloads go on.
        for (int i = 0; i < 2_000 && loading.get(); i++) {
          HttpProbe.Response response = probe.get(port, "app.example.com", "/load");
          String outcome = response.status() == 200
              ? response.pod().replaceAll("-pod-\\d", "") : "status " + response.status();
          outcomes.merge(outcome, 1, Integer::sum);
        }
      }));
    }
    long version = gateway.tableVersion();
    // At least 10 reloads, and as many more as it takes for the clients to have sent 50
    // requests across them (reloads got fast enough for 10 to fit in a few requests); in
    // pairs, so that blue serves at the end.
    for (int pair = 0; pair < 5 || pair < 500 && total(outcomes) <= 50; pair++) {
      for (String service : List.of("green", "blue")) {
        gateway.replaceFile("routes.yaml", routeTo(service));
        version = gateway.awaitTableAfter(version);
      }
    }
    loading.set(false);
    for (Future<?> worker : workers) {
      worker.get(60, TimeUnit.SECONDS);
    }
    clients.shutdown();

    assertThat(outcomes.keySet()).containsOnly("blue", "green");
    assertThat(total(outcomes)).isGreaterThan(50);
    assertThat(probe.get(port, "app.example.com", "/after").pod()).startsWith("blue-pod-");
  }

  private static int total(Map<String, Integer> outcomes) {
    return outcomes.values().stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  void malformedFileKeepsTheLastGoodRoutesServing() {
    fleet.service("default", "blue", 1).service("default", "green", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routeTo("blue"));
    long version = gateway.tableVersion();

    gateway.overwriteFile("routes.yaml", routeTo("green").replace("rules:", "rules: [oops"));
    TestGateway.awaitCondition("a problem reported for routes.yaml", () ->
        gateway.portico().problems().stream().anyMatch(p -> p.file().endsWith("routes.yaml")
            && p.severity() == ConfigProblem.Severity.ERROR));

    assertThat(gateway.tableVersion()).isEqualTo(version);
    assertThat(probe.get(port, "app.example.com", "/").pod()).isEqualTo("blue-pod-0");
    ConfigProblem problem = gateway.portico().problems().stream()
        .filter(p -> p.severity() == ConfigProblem.Severity.ERROR).findFirst().orElseThrow();
    assertThat(problem.line()).isPositive();

    gateway.replaceFile("routes.yaml", routeTo("green"));
    gateway.awaitTableAfter(version);
    assertThat(probe.get(port, "app.example.com", "/").pod()).isEqualTo("green-pod-0");
    assertThat(gateway.portico().problems()).isEmpty();
  }

  @Test
  void invalidObjectIsRejectedWhileTheRestOfTheFileLoads() {
    fleet.service("default", "blue", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", routeTo("blue"));
    long version = gateway.tableVersion();

    gateway.replaceFile("extra.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: Not_A_Valid_Name, namespace: default}
        spec: {}
        ---
        """ + route("second", "second.example.com", """
        - backendRefs: [{name: blue, port: 80}]
        """));
    gateway.awaitTableAfter(version);

    assertThat(probe.get(port, "second.example.com", "/").pod()).isEqualTo("blue-pod-0");
    assertThat(probe.get(port, "app.example.com", "/").pod()).isEqualTo("blue-pod-0");
    assertThat(gateway.portico().problems())
        .anySatisfy(p -> assertThat(p.toString()).contains("extra.yaml:1").contains("Not_A_Valid_Name"));
  }
}
