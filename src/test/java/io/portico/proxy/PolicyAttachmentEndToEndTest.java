package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BackendTrafficPolicy attachment against three real echo pods: a Gateway-level cookie policy
 * makes every route on the Gateway sticky, and a route-level RoundRobin policy on one route
 * replaces it there (the most specific policy wins).
 */
class PolicyAttachmentEndToEndTest {

  private static final String STICKY_HOST = "sticky.example.com";
  private static final String ROUND_ROBIN_HOST = "rr.example.com";

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

  private static final String POLICIES = """
      apiVersion: gateway.envoyproxy.io/v1alpha1
      kind: BackendTrafficPolicy
      metadata: {name: gateway-cookie, namespace: infra}
      spec:
        targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
        sessionAffinity:
          type: Cookie
          cookie: {name: session_id, ttl: 3600s}
      ---
      apiVersion: gateway.envoyproxy.io/v1alpha1
      kind: BackendTrafficPolicy
      metadata: {name: spread, namespace: default}
      spec:
        targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: rr}
        loadBalancer: {type: RoundRobin}
      """;

  private HttpProbe.Response get(String host, String cookie) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (cookie != null) {
      headers.add("Cookie", cookie);
    }
    HttpProbe.Response response = probe.send(HttpMethod.GET, port, host, "/", headers, null);
    assertThat(response.status()).isEqualTo(200);
    return response;
  }

  @Test
  void gatewayCookiePolicyPinsRoutesWhileARoutePolicyOverridesIt() {
    fleet.service("default", "web", 3);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(),
        "routes.yaml", route("sticky", STICKY_HOST, """
            - backendRefs: [{name: web, port: 80}]
            """) + "---\n" + route("rr", ROUND_ROBIN_HOST, """
            - backendRefs: [{name: web, port: 80}]
            """),
        "policy.yaml", POLICIES);

    // The route without its own policy gets the Gateway's: a cookie, then the same pod.
    HttpProbe.Response first = get(STICKY_HOST, null);
    String setCookie = first.headers().get("set-cookie");
    assertThat(setCookie).as("Set-Cookie from the Gateway policy").startsWith("session_id=");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    Map<String, Integer> sticky = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      HttpProbe.Response response = get(STICKY_HOST, cookie);
      assertThat(response.headers().get("set-cookie")).isNull();
      sticky.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("attachment: 300 requests to the Gateway-policy route with " + cookie
        + " -> " + sticky);
    assertThat(sticky).containsExactly(Map.entry(first.pod(), 300));

    // The route with its own RoundRobin policy ignores the cookie and spreads evenly.
    Map<String, Integer> spread = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      HttpProbe.Response response = get(ROUND_ROBIN_HOST, cookie);
      assertThat(response.headers().get("set-cookie")).as("no cookie from RoundRobin").isNull();
      spread.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("attachment: 300 requests to the RoundRobin route with " + cookie
        + " -> " + spread);
    assertThat(spread).hasSize(3).allSatisfy((pod, n) -> assertThat(n).isBetween(80, 120));
  }
}
