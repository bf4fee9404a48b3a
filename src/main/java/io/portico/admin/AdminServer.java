package io.portico.admin;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.portico.controller.GatewayState;
import io.portico.health.HealthRegistry;
import io.portico.resource.ConfigProblem;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Serves the admin API: liveness, readiness, Prometheus metrics, and what Portico is serving
 * right now (routing table, endpoints, status, configuration problems) as YAML, for debugging.
 */
public final class AdminServer {

  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private final Supplier<GatewayState> state;
  private final Supplier<List<ConfigProblem>> problems;
  private final BooleanSupplier ready;
  private HealthRegistry health;

  public AdminServer(Supplier<GatewayState> state, Supplier<List<ConfigProblem>> problems,
      BooleanSupplier ready) {
    this.state = Objects.requireNonNull(state, "state");
    this.problems = Objects.requireNonNull(problems, "problems");
    this.ready = Objects.requireNonNull(ready, "ready");
  }

  public Future<HttpServer> listen(Vertx vertx, String host, int port) {
    health = HealthRegistry.of(vertx);
    return vertx.createHttpServer().requestHandler(this::handle).listen(port, host);
  }

  private void handle(HttpServerRequest request) {
    if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
      text(request, 405, "only GET is supported\n");
      return;
    }
    switch (request.path()) {
      case "/healthz":
        text(request, 200, "ok\n");
        break;
      case "/readyz":
        if (ready.getAsBoolean()) {
          text(request, 200, "ready\n");
        } else {
          text(request, 503, "not ready: waiting for the first configuration\n");
        }
        break;
      case "/metrics":
        metrics(request);
        break;
      case "/config/routes":
        yaml(request, tableDump(state.get()));
        break;
      case "/config/endpoints":
        yaml(request, state.get().endpoints());
        break;
      case "/config/status":
        yaml(request, state.get().status().all());
        break;
      case "/config/health":
        yaml(request, health.describe());
        break;
      case "/config/problems":
        yaml(request, problems.get().stream().map(ConfigProblem::toString).toList());
        break;
      case "/":
        text(request, 200, "Portico admin: /healthz /readyz /metrics /config/routes "
            + "/config/endpoints /config/health /config/status /config/problems\n");
        break;
      default:
        text(request, 404, "not found: " + request.path() + "\n");
    }
  }

  private static Map<String, Object> tableDump(GatewayState state) {
    Map<String, Object> dump = new LinkedHashMap<>();
    dump.put("version", state.table().version());
    dump.put("httpPorts", state.table().value().httpPorts());
    return dump;
  }

  private static void metrics(HttpServerRequest request) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (!(registry instanceof PrometheusMeterRegistry prometheus)) {
      text(request, 404, "metrics are disabled\n");
      return;
    }
    request.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .end(prometheus.scrape());
  }

  private static void yaml(HttpServerRequest request, Object value) {
    request.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/yaml; charset=utf-8")
        .end(YAML.asYaml(value));
  }

  private static void text(HttpServerRequest request, int status, String body) {
    request.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(body);
  }
}
