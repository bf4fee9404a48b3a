package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.portico.proxy.ProxyEndToEndTest.GATEWAY_CLASS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ListenerSets over real sockets: a route attached through a ListenerSet's listener on a port
 * of its own is served there, and adding or deleting the ListenerSet while Portico runs opens
 * or closes that port without a restart (the Gateway's own port keeps serving throughout).
 */
class ListenerSetEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private final int gatewayPort = TestGateway.freePort();
  private final int listenerSetPort = TestGateway.freePort();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    probe.close();
    fleet.close();
  }

  private String gatewayYaml() {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: infra}
        spec:
          gatewayClassName: portico
          allowedListeners: {namespaces: {from: All}}
          listeners:
          - {name: http, protocol: HTTP, port: %d, allowedRoutes: {namespaces: {from: All}}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: site, namespace: infra}
        spec:
          parentRefs: [{name: gw}]
          rules: [{backendRefs: [{name: site, port: 80}]}]
        """.formatted(gatewayPort);
  }

  /** A team's ListenerSet on its own port, and its route attached through it. */
  private String teamYaml() {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: team, namespace: team}
        spec:
          parentRef: {name: gw, namespace: infra}
          listeners:
          - {name: app, protocol: HTTP, port: %d, hostname: app.team.example}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: app, namespace: team}
        spec:
          parentRefs: [{kind: ListenerSet, name: team, sectionName: app}]
          rules: [{backendRefs: [{name: app, port: 80}]}]
        """.formatted(listenerSetPort);
  }

  @Test
  void routeThroughAListenerSetIsServedOnItsPort() {
    fleet.service("infra", "site", 1).service("team", "app", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "backends.yaml", fleet.yaml(), "team.yaml", teamYaml());

    HttpProbe.Response response = probe.get(listenerSetPort, "app.team.example", "/hello");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.pod()).isEqualTo("app-pod-0");
    // Listener isolation: the ListenerSet's hostname only, and the Gateway's route not there.
    assertThat(probe.get(listenerSetPort, "other.example", "/").status()).isEqualTo(404);
    // The Gateway's own listener does not serve the ListenerSet's route.
    assertThat(probe.get(gatewayPort, "app.team.example", "/").pod()).isEqualTo("site-pod-0");
  }

  @Test
  void addingAndDeletingAListenerSetOpensAndClosesItsPort() throws IOException {
    fleet.service("infra", "site", 1).service("team", "app", 1);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "backends.yaml", fleet.yaml());
    assertThat(accepting(listenerSetPort)).isFalse();

    long version = gateway.tableVersion();
    gateway.replaceFile("team.yaml", teamYaml());
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("port " + listenerSetPort + " open", () -> accepting(listenerSetPort));
    assertThat(probe.get(listenerSetPort, "app.team.example", "/").pod()).isEqualTo("app-pod-0");

    version = gateway.tableVersion();
    Files.delete(directory.resolve("team.yaml"));
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("port " + listenerSetPort + " closed",
        () -> !accepting(listenerSetPort));
    assertThat(probe.get(gatewayPort, "site.example", "/").pod()).isEqualTo("site-pod-0");
  }

  @Test
  void listenerSetTheGatewayDoesNotAdmitOpensNoPort() {
    fleet.service("infra", "site", 1).service("team", "app", 1);
    gateway = TestGateway.start(directory, "gateway.yaml",
        gatewayYaml().replace("allowedListeners: {namespaces: {from: All}}",
            "allowedListeners: {namespaces: {from: Same}}"),
        "backends.yaml", fleet.yaml(), "team.yaml", teamYaml());

    assertThat(accepting(listenerSetPort)).isFalse();
    assertThat(probe.get(gatewayPort, "site.example", "/").pod()).isEqualTo("site-pod-0");
  }

  private static boolean accepting(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
