package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The shipped examples translate the way the README says they do. */
class ExampleConfigurationsTest {

  private static final ObjectKey WEB_ROUTE = new ObjectKey("HTTPRoute", "default", "web-route");

  @Test
  void seedManifestsAsWrittenLeaveWebRouteUnattachedWithAFix() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "seed"));

    Condition accepted = condition(translation.status().httpRoutes().get(WEB_ROUTE), "Accepted");
    assertThat(accepted.getStatus()).isEqualTo("False");
    assertThat(accepted.getReason()).isEqualTo("NotAllowedByListeners");
    assertThat(accepted.getMessage())
        .contains("listener 'http' of Gateway gateway-system/public-gateway")
        .contains("allowedRoutes.namespaces.from: All");
    assertThat(translation.table().httpPort(80).listeners().get(0).virtualHosts()).isEmpty();
    assertThat(translation.status().gateways()
        .get(new ObjectKey("Gateway", "gateway-system", "public-gateway"))
        .getListeners().get(0).getAttachedRoutes()).isZero();
  }

  @Test
  void quickstartAttachesWebRouteWithItsWeightedSplit() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "quickstart"));

    HTTPRouteStatus status = translation.status().httpRoutes().get(WEB_ROUTE);
    assertThat(condition(status, "Accepted").getStatus()).isEqualTo("True");
    assertThat(condition(status, "ResolvedRefs").getStatus()).isEqualTo("True");
    var routes = translation.table().httpPort(80).listeners().get(0)
        .findVirtualHost("app.example.com").routes();
    assertThat(routes).extracting(r -> r.match().path().value()).containsExactly("/app", "/");
    assertThat(routes.get(0).backends().backends())
        .extracting(b -> b.key().name() + "=" + b.weight())
        .containsExactly("app-v1=80", "app-v2=20");
  }

  @Test
  void quickstartServesTheSameRoutesOverHttpsWithItsCertificate() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "quickstart"));

    var gateway = translation.status().gateways()
        .get(new ObjectKey("Gateway", "gateway-system", "public-gateway"));
    var https = gateway.getListeners().stream()
        .filter(listener -> listener.getName().equals("https")).findFirst().orElseThrow();
    assertThat(https.getConditions())
        .anyMatch(c -> c.getType().equals("ResolvedRefs") && c.getStatus().equals("True"))
        .anyMatch(c -> c.getType().equals("Programmed") && c.getStatus().equals("True"));
    assertThat(https.getAttachedRoutes()).isEqualTo(gateway.getListeners().get(0)
        .getAttachedRoutes()).isPositive();
    assertThat(translation.table().httpPort(443).tls()).isTrue();
    assertThat(translation.table().httpPort(443).listeners().get(0)
        .findVirtualHost("app.example.com").routes()).hasSize(2);
  }

  @Test
  void quickstartStickyRouteGetsTheSeedsCookieAffinity() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "quickstart"));

    var policy = translation.status().backendTrafficPolicies()
        .get(new ObjectKey("BackendTrafficPolicy", "default", "sticky-sessions"));
    assertThat(policy.getAncestors()).hasSize(1);
    assertThat(policy.getAncestors().get(0).getConditions())
        .anyMatch(c -> c.getType().equals("Accepted") && c.getStatus().equals("True"));
    var group = translation.table().httpPort(80).listeners().get(0)
        .findVirtualHost("sticky.example.com").routes().get(0).backends();
    assertThat(group.loadBalancing().type()).isEqualTo(io.portico.ir.LoadBalancing.Type.COOKIE);
    assertThat(group.loadBalancing().name()).isEqualTo("session_id");
    assertThat(group.loadBalancing().ttlSeconds()).isEqualTo(3600);
    assertThat(group.traffic().healthCheck()).isNotEqualTo(io.portico.ir.HealthCheck.NONE);
    assertThat(group.traffic().resilience().retry().numRetries()).isEqualTo(2);
  }

  @Test
  void tlsPassthroughExampleAttachesItsTlsRouteAndTcpRoute() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "tls-passthrough"));

    for (var parents : List.of(
        translation.status().tlsRoutes().get(new ObjectKey("TLSRoute", "default", "db"))
            .getParents(),
        translation.status().tcpRoutes().get(new ObjectKey("TCPRoute", "default", "pg"))
            .getParents())) {
      assertThat(parents).hasSize(1);
      assertThat(parents.get(0).getConditions()).allMatch(c -> c.getStatus().equals("True"));
    }
    var ports = translation.table().streamPorts();
    assertThat(ports).extracting(p -> p.protocol() + ":" + p.port())
        .containsExactly("TLS:443", "TCP:5432");
    assertThat(ports.get(0).findListener("db.example.com").findRoute("db.example.com")
        .backends().backends().get(0).key().name()).isEqualTo("db-tls");
    assertThat(ports.get(0).findListener("db.example.com").findRoute("nope.example.com"))
        .isNull();
    // The HTTPS listener on the same port takes www.example.com, the more specific name.
    assertThat(ports.get(0).findListener("www.example.com").https()).isTrue();
    assertThat(translation.table().sharedWithTls(translation.table().httpPort(443))).isTrue();
    assertThat(translation.status().httpRoutes().get(new ObjectKey("HTTPRoute", "default", "www"))
        .getParents().get(0).getConditions()).allMatch(c -> c.getStatus().equals("True"));
    // The policy on the TCPRoute: what applies reaches it, retry is named in a Warning.
    var pg = ports.get(1).findListener(null).findRoute(null).backends().traffic();
    assertThat(pg.loadBalancing().type()).isEqualTo(io.portico.ir.LoadBalancing.Type.SOURCE_IP);
    assertThat(pg.healthCheck().enabled()).isTrue();
    assertThat(pg.resilience().retry()).isNull();
    var conditions = translation.status().backendTrafficPolicies()
        .get(new ObjectKey("BackendTrafficPolicy", "default", "pg")).getAncestors().get(0)
        .getConditions();
    assertThat(conditions).anyMatch(c -> c.getType().equals("Accepted")
        && c.getStatus().equals("True"));
    assertThat(conditions).anyMatch(c -> c.getType().equals("Warning")
        && c.getMessage().startsWith("spec.retry does not apply to TCPRoute default/pg"));
  }

  static Translation translateDirectory(Path directory) throws IOException {
    List<HasMetadata> objects = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        var result = new YamlResourceReader().read(file.toString(), Files.readString(file));
        assertThat(result.problems()).as("problems in %s", file).isEmpty();
        result.objects().forEach(o -> objects.add(o.object()));
      }
    }
    return new Translator(TranslatorOptions.DEFAULTS).translate(ResourceSnapshot.of(objects));
  }

  @Test
  void grpcExampleRoutesEchoAndTheCanaryOfEchoTwo() throws IOException {
    Translation translation = translateDirectory(Path.of("examples", "grpc"));

    var status = translation.status().grpcRoutes()
        .get(new ObjectKey("GRPCRoute", "default", "echo"));
    assertThat(status.getParents()).hasSize(1);
    assertThat(status.getParents().get(0).getConditions())
        .extracting(c -> c.getType() + "=" + c.getStatus())
        .contains("Accepted=True", "ResolvedRefs=True");
    var routes = translation.table().httpPort(80).listeners().get(0)
        .findVirtualHost("grpc.example.com").routes();
    String service = "/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/";
    assertThat(routes).extracting(r -> r.match().path().value() + " " + r.match().headers().size())
        // The spec's order: the longer method name first, then more header matches.
        .containsExactly(service + "EchoTwo 1", service + "EchoTwo 0", service + "Echo 0");
    assertThat(routes.get(1).backends().backends())
        .extracting(b -> b.key().name() + "=" + b.weight() + (b.http2() ? " h2" : ""))
        .containsExactly("echo-v1=3 h2", "echo-v2=1 h2");
  }

  private static Condition condition(HTTPRouteStatus status, String type) {
    assertThat(status).isNotNull();
    assertThat(status.getParents()).hasSize(1);
    return status.getParents().get(0).getConditions().stream()
        .filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }
}
