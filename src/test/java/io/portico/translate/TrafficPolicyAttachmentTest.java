package io.portico.translate;

import io.portico.ir.BackendGroup;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.Route;
import io.portico.ir.VirtualHost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the golden files cannot show: the proxy keys its per-rule pickers by BackendGroup
 * identity, so a rule must keep one instance per effective policy, across its matches and the
 * listeners it is served on, and get distinct instances where its policies differ.
 */
class TrafficPolicyAttachmentTest {

  private static final Path CASES = Path.of("src", "test", "resources", "translate");

  @TempDir
  Path directory;

  private static List<BackendGroup> groups(Translation translation, int port, String host,
      String routeName) {
    List<BackendGroup> groups = new ArrayList<>();
    HttpPort httpPort = translation.table().httpPort(port);
    for (Listener listener : httpPort.listeners()) {
      for (VirtualHost virtualHost : listener.virtualHosts()) {
        if (!virtualHost.hostname().equals(host)) {
          continue;
        }
        for (Route route : virtualHost.routes()) {
          if (route.source().name().equals(routeName)) {
            groups.add(route.backends());
          }
        }
      }
    }
    assertThat(groups).as("%s on port %d", routeName, port).isNotEmpty();
    return groups;
  }

  @Test
  void oneInstancePerRuleAndEffectivePolicy() throws Exception {
    Translation translation =
        TranslatorGoldenTest.translate(CASES.resolve("btp-gateway-listener-route.in.yaml"));
    // "own" has a route-level policy: the same on both listeners, so one instance.
    BackendGroup own80 = groups(translation, 80, "own.example.com", "own").get(0);
    BackendGroup own8080 = groups(translation, 8080, "own.example.com", "own").get(0);
    assertThat(own80).isSameAs(own8080);
    assertThat(own80.traffic().policy()).isEqualTo("default/own-route");
    // "shared" gets the Gateway policy on http and the listener policy on alt: two instances.
    BackendGroup shared80 = groups(translation, 80, "shared.example.com", "shared").get(0);
    BackendGroup shared8080 = groups(translation, 8080, "shared.example.com", "shared").get(0);
    assertThat(shared80).isNotSameAs(shared8080);
    assertThat(shared80.traffic().policy()).isEqualTo("default/gateway-wide");
    assertThat(shared8080.traffic().policy()).isEqualTo("default/alt-listener");
    assertThat(shared80.name()).isEqualTo(shared8080.name());
  }

  @Test
  void matchesOfOneRuleShareTheirInstanceAcrossHostnames() throws Exception {
    Path file = directory.resolve("case.yaml");
    Files.writeString(file, """
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
          listeners:
          - {name: http, protocol: HTTP, port: 80}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: app, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [a.example.com, b.example.com]
          rules:
          - matches: [{path: {type: PathPrefix, value: /x}}, {path: {type: PathPrefix, value: /y}}]
            backendRefs: [{name: web, port: 8080}]
          - backendRefs: [{name: web, port: 8080}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          ports: [{name: http, port: 8080, targetPort: 8080}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: gateway-wide, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
          sessionAffinity: {type: SourceIP}
        """);
    Translation translation = TranslatorGoldenTest.translate(file);
    List<BackendGroup> a = groups(translation, 80, "a.example.com", "app");
    List<BackendGroup> b = groups(translation, 80, "b.example.com", "app");
    assertThat(a).hasSize(3);
    assertThat(b).hasSize(3);
    // Routes sort /x, /y (rule 0) before / (rule 1).
    assertThat(a.get(0)).isSameAs(a.get(1)).isSameAs(b.get(0)).isSameAs(b.get(1));
    assertThat(a.get(2)).isSameAs(b.get(2)).isNotSameAs(a.get(0));
    assertThat(a).allSatisfy(g -> assertThat(g.traffic().policy()).isEqualTo("default/gateway-wide"));
  }
}
