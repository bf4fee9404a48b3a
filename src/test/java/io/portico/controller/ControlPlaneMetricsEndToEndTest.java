package io.portico.controller;

import io.portico.proxy.ProxyEndToEndTest;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.portico.testing.TestGateway.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control plane's meters on the admin API's {@code /metrics}, from a gateway serving a
 * directory: a route change and a pod change each show as one propagation, on the path it took.
 */
class ControlPlaneMetricsEndToEndTest {

  private static final String TRANSLATION = "path=\"translation\"";
  private static final String ENDPOINTS = "path=\"endpoints\"";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final EchoFleet moved = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
    moved.close();
  }

  private static String route(String name, String hostname) {
    return ProxyEndToEndTest.route(name, hostname, "- backendRefs: [{name: web, port: 80}]");
  }

  @Test
  void routeAndEndpointChangesAreTimedOnTheirPaths() {
    int port = TestGateway.freePort();
    int adminPort = TestGateway.freePort();
    fleet.service("default", "web", 1);
    gateway = TestGateway.start(directory,
        options -> options.withMetrics(true).withAdmin("127.0.0.1", adminPort),
        "gateway.yaml", ProxyEndToEndTest.gatewayYaml(port), "backends.yaml", fleet.yaml(),
        "routes.yaml", route("app", "app.example.com"));
    assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
    String atStart = metrics(adminPort);
    // The start's translation is timed; no change caused it, so nothing propagated yet.
    assertThat(value(atStart, "portico_config_translation_seconds_count")).isEqualTo(1);
    assertThat(value(atStart, "portico_config_propagation_seconds_count", TRANSLATION))
        .isZero();

    gateway.replaceFile("routes.yaml", route("app", "app.example.com")
        + "---\n" + route("new", "new.example.com"));
    awaitCondition("the new route served",
        () -> probe.get(port, "new.example.com", "/").status() == 200);
    String afterRoute = metrics(adminPort);
    assertThat(value(afterRoute, "portico_config_propagation_seconds_count", TRANSLATION))
        .isEqualTo(1);
    assertThat(value(afterRoute, "portico_config_propagation_seconds_count", ENDPOINTS))
        .isZero();
    assertThat(value(afterRoute, "portico_config_translation_seconds_count")).isEqualTo(2);
    // The buckets operators set goals in (50 ms among them); the change is in the 10 s one.
    assertThat(afterRoute)
        .contains("portico_config_propagation_seconds_bucket{path=\"translation\",le=\"0.05\"}");
    assertThat(value(afterRoute, "portico_config_propagation_seconds_bucket", "le=\"10.0\"",
        TRANSLATION)).isEqualTo(1);

    // The Service's pod replaced by one on another port: the endpoint fast path, no translation.
    moved.service("default", "web", 1);
    gateway.replaceFile("backends.yaml", moved.yaml());
    awaitCondition("the pod change published", () -> value(metrics(adminPort),
        "portico_config_propagation_seconds_count", ENDPOINTS) == 1);
    String afterPod = metrics(adminPort);
    assertThat(value(afterPod, "portico_config_translation_seconds_count")).isEqualTo(2);
    assertThat(value(afterPod, "portico_config_propagation_seconds_count", TRANSLATION))
        .isEqualTo(1);
  }

  private String metrics(int adminPort) {
    return probe.get(adminPort, "127.0.0.1", "/metrics").body();
  }

  /**
   * The value of {@code name} in the Prometheus text, on the first line whose labels contain
   * every one of {@code labels}; 0 when there is none.
   */
  private static double value(String metrics, String name, String... labels) {
    Matcher line = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$")
        .matcher(metrics);
    while (line.find()) {
      String found = line.group(1) == null ? "" : line.group(1);
      if (java.util.Arrays.stream(labels).allMatch(found::contains)) {
        return Double.parseDouble(line.group(2));
      }
    }
    return 0;
  }
}
