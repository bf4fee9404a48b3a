package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.portico.testing.UpgradeProbe;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The affinity cookie and session header on WebSocket upgrades: an endpoint's answer, 101 or a
 * refusal, names the endpoint like any relayed HTTP answer; the 502 Portico answers itself
 * (connect refused, reset or garbage before the answer's head) carries neither.
 */
class UpgradeAffinityEndToEndTest {

  private static final String HOST = "app.example.com";
  private static final String COOKIE = "lb=[0-9a-f]{16}; Max-Age=60; Path=/; HttpOnly";
  private static final String SESSION = "[0-9a-f]{16}\\.[0-9a-f]+";

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
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
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  /** A TCP server that answers any request with {@code reply}, or closes when it is null. */
  private int rawServer(String reply) {
    NetServer server = vertx.createNetServer().connectHandler(socket -> socket.handler(bytes -> {
      if (reply == null) {
        socket.close();
      } else {
        socket.write(reply);
      }
    }));
    return server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().join()
        .actualPort();
  }

  private static String rule(String prefix, String service) {
    return """
        - matches: [{path: {type: PathPrefix, value: %s}}]
          backendRefs: [{name: %s, port: 80}]
          sessionPersistence: {sessionName: X-Session, type: Header}
        """.formatted(prefix, service);
  }

  @Test
  void endpointAnswersCarryTheCookieAndPorticoErrorsNone() {
    fleet.service("default", "web", 1)
        .serviceAt("default", "garbage", rawServer("SSH-2.0-OpenSSH_9.6\r\n\r\n"), true)
        .serviceAt("default", "reset", rawServer(null), true)
        .serviceAt("default", "dead", TestGateway.freePort(), true);
    // Every path but /ws (and /health) of the echo pod answers 403: a refusal to upgrade.
    fleet.servers().get(0).setFaultStatus(403);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", HOST,
            rule("/ws", "web") + rule("/refused", "web") + rule("/garbage", "garbage")
                + rule("/reset", "reset") + rule("/dead", "dead")),
        "policy.yaml", """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: sticky, namespace: default}
            spec:
              targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
              sessionAffinity:
                type: Cookie
                cookie: {name: lb, ttl: 60s}
            """);

    UpgradeProbe.Head switched = UpgradeProbe.upgrade(port, HOST, "/ws");
    assertThat(switched.status()).isEqualTo(101);
    assertThat(switched.headers("set-cookie")).singleElement().asString().matches(COOKIE);
    assertThat(switched.headers("x-session")).singleElement().asString().matches(SESSION);

    // The endpoint's own refusal is a real answer: named like the same answer to a plain GET.
    UpgradeProbe.Head refused = UpgradeProbe.upgrade(port, HOST, "/refused");
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.headers("set-cookie")).singleElement().asString().matches(COOKIE);
    assertThat(refused.headers("x-session")).singleElement().asString().matches(SESSION);
    HttpProbe.Response plain = probe.get(port, HOST, "/refused");
    assertThat(plain.status()).isEqualTo(403);
    assertThat(plain.headers().getAll("set-cookie")).singleElement().asString().matches(COOKIE);
    assertThat(plain.headers().get("x-session")).matches(SESSION);

    for (String path : new String[] {"/garbage", "/reset", "/dead"}) {
      UpgradeProbe.Head failed = UpgradeProbe.upgrade(port, HOST, path);
      System.out.println("upgrade affinity: " + path + " -> " + failed.status() + " "
          + failed.lines());
      assertThat(failed.status()).as(path).isEqualTo(502);
      assertThat(failed.headers("set-cookie")).as(path).isEmpty();
      assertThat(failed.headers("x-session")).as(path).isEmpty();
      assertThat(failed.headers("x-portico-failure")).as(path).isNotEmpty();
    }
  }
}
