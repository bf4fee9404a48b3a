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

import static io.portico.proxy.ProxyEndToEndTest.GATEWAY_CLASS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A BackendTrafficPolicy targeting a ListenerSet, over real sockets against three echo pods:
 * the route attached through the ListenerSet's listener gets its cookie affinity, the route on
 * the Gateway's own listener, to the same Service, does not.
 */
class ListenerSetPolicyEndToEndTest {

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

  private String configuration() {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          allowedListeners: {namespaces: {from: Same}}
          listeners:
          - {name: http, protocol: HTTP, port: %d}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: site, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: team, namespace: default}
        spec:
          parentRef: {name: gw}
          listeners:
          - {name: app, protocol: HTTP, port: %d}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: app, namespace: default}
        spec:
          parentRefs: [{kind: ListenerSet, name: team}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: team-sticky, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: team}]
          sessionAffinity:
            type: Cookie
            cookie: {name: session_id, ttl: 3600s}
        """.formatted(gatewayPort, listenerSetPort);
  }

  private HttpProbe.Response get(int port, String cookie) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (cookie != null) {
      headers.add("Cookie", cookie);
    }
    HttpProbe.Response response =
        probe.send(HttpMethod.GET, port, "app.example.com", "/", headers, null);
    assertThat(response.status()).isEqualTo(200);
    return response;
  }

  @Test
  void listenerSetPolicyPinsItsRouteButNotTheGatewayListenersRoute() {
    fleet.service("default", "web", 3);
    gateway = TestGateway.start(directory, "gateway.yaml", configuration(),
        "backends.yaml", fleet.yaml());

    // Through the ListenerSet: a cookie, then always the same pod.
    HttpProbe.Response first = get(listenerSetPort, null);
    String setCookie = first.headers().get("set-cookie");
    assertThat(setCookie).as("Set-Cookie from the ListenerSet's policy").startsWith("session_id=");
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    Map<String, Integer> pinned = new TreeMap<>();
    for (int i = 0; i < 60; i++) {
      pinned.merge(get(listenerSetPort, cookie).pod(), 1, Integer::sum);
    }
    System.out.println("listenerset policy: 60 requests through the ListenerSet with " + cookie
        + " -> " + pinned);
    assertThat(pinned).containsExactly(Map.entry(first.pod(), 60));

    // The Gateway's own listener, same Service, same cookie: no affinity, no cookie.
    Map<String, Integer> spread = new TreeMap<>();
    for (int i = 0; i < 60; i++) {
      HttpProbe.Response response = get(gatewayPort, cookie);
      assertThat(response.headers().get("set-cookie")).as("no cookie on the Gateway's listener")
          .isNull();
      spread.merge(response.pod(), 1, Integer::sum);
    }
    System.out.println("listenerset policy: 60 requests to the Gateway's listener with " + cookie
        + " -> " + spread);
    assertThat(spread).hasSize(3);
  }
}
