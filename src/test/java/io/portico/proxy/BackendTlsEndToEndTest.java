package io.portico.proxy;

import io.portico.testing.HttpProbe;
import io.portico.testing.HttpProbe.Response;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * BackendTLSPolicy end to end: Portico speaks TLS to an HTTPS backend, sends the policy's
 * hostname as SNI, and refuses a backend whose certificate is not signed by the policy's CA or
 * does not carry its hostname.
 */
public class BackendTlsEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final HttpProbe probe = new HttpProbe();
  private final int port = TestGateway.freePort();
  private final Pem ca = TestCertificates.certificateAuthority("backends");
  private final Pem otherCa = TestCertificates.certificateAuthority("strangers");
  private final Pem backendCert = TestCertificates.serverCertificate(ca, "backend.example.com");
  private final List<String> serverNames = new CopyOnWriteArrayList<>();
  /** The client ports of the connections the backend's requests came on. */
  private final java.util.Set<Integer> clientPorts =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private HttpServer backend;
  private TestGateway gateway;

  @BeforeEach
  void startBackend() throws Exception {
    backend = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
            .setKeyCertOptions(new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(backendCert.certificate()))
                .setKeyValue(Buffer.buffer(backendCert.key()))))
        .requestHandler(request -> {
          serverNames.add(String.valueOf(request.connection().indicatedServerName()));
          clientPorts.add(request.connection().remoteAddress().port());
          if (request.path().startsWith("/good/slow")) {
            vertx.setTimer(200, t -> request.response().end("secure " + request.path()));
            return;
          }
          request.response().end("secure " + request.path());
        })
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.close();
    }
    probe.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String service(String name) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: default}
        spec:
          ports: [{name: https, port: 443, targetPort: 8443}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %1$s-1, namespace: default, labels: {kubernetes.io/service-name: %1$s}}
        addressType: IPv4
        ports: [{name: https, port: %2$d}]
        endpoints: [{addresses: [127.0.0.1]}]
        ---
        """.formatted(name, backend.actualPort());
  }

  /** A BackendTLSPolicy on {@code service}; also for the TCP routes' backends (tcp/). */
  public static String policy(String service, String caConfigMap, String hostname) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: BackendTLSPolicy
        metadata: {name: %1$s, namespace: default}
        spec:
          targetRefs: [{group: "", kind: Service, name: %1$s}]
          validation:
            caCertificateRefs: [{group: "", kind: ConfigMap, name: %2$s}]
            hostname: %3$s
        ---
        """.formatted(service, caConfigMap, hostname);
  }

  private void serve() {
    serve(2, "");
  }

  /** Serves the routes with {@code loops} event loops and {@code extra} config appended. */
  private void serve(int loops, String extra) {
    String config = ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, protocol: HTTP, port: %d}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules:
          - matches: [{path: {type: PathPrefix, value: /good}}]
            backendRefs: [{name: good, port: 443}]
          - matches: [{path: {type: PathPrefix, value: /wrong-ca}}]
            backendRefs: [{name: wrong-ca, port: 443}]
          - matches: [{path: {type: PathPrefix, value: /mismatch}}]
            backendRefs: [{name: mismatch, port: 443}]
          - matches: [{path: {type: PathPrefix, value: /no-ca}}]
            backendRefs: [{name: no-ca, port: 443}]
        ---
        """.formatted(port);
    String backends = service("good") + service("wrong-ca") + service("mismatch")
        + service("no-ca")
        + policy("good", "ca", "backend.example.com")
        + policy("wrong-ca", "other-ca", "backend.example.com")
        + policy("mismatch", "ca", "other.example.com")
        + policy("no-ca", "missing", "backend.example.com")
        + ca.caConfigMapYaml("default", "ca") + "---\n"
        + otherCa.caConfigMapYaml("default", "other-ca");
    gateway = TestGateway.start(directory, options -> options.withEventLoops(loops),
        "gateway.yaml", config + extra, "backends.yaml", backends);
  }

  @Test
  void maxConnectionsCountsTheConnectionsToHttpsBackends() throws Exception {
    serve(1, """
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: one-connection, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}
          circuitBreaker: {maxConnections: 1}
        """);
    java.util.concurrent.ExecutorService clients =
        java.util.concurrent.Executors.newFixedThreadPool(6);
    try {
      List<java.util.concurrent.Future<Response>> responses = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) {
        responses.add(clients.submit(() -> probe.get(port, "app.example.com", "/good/slow")));
      }
      int ok = 0;
      for (java.util.concurrent.Future<Response> response : responses) {
        if (response.get(20, TimeUnit.SECONDS).status() == 200) {
          ok++;
        }
      }
      System.out.printf("backend tls: 6 concurrent 200 ms requests, maxConnections 1, 1 event "
          + "loop: %d ok over %d connection(s)%n", ok, clientPorts.size());
      assertThat(ok).isEqualTo(6);
      assertThat(clientPorts).hasSize(1);
    } finally {
      clients.shutdownNow();
    }
  }

  @Test
  void trustedBackendWithTheHostnameIsServedOverTlsWithSni() {
    serve();
    Response response = probe.get(port, "app.example.com", "/good");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("secure /good");
    assertThat(serverNames).containsOnly("backend.example.com");
  }

  @Test
  void backendSignedByAnotherCaIsRefused() {
    serve();
    Response response = probe.get(port, "app.example.com", "/wrong-ca");
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.headers().get("x-portico-failure")).isEqualTo("upstream_tls");
    assertThat(serverNames).isEmpty();
  }

  @Test
  void backendWithoutThePolicyHostnameIsRefused() {
    serve();
    Response response = probe.get(port, "app.example.com", "/mismatch");
    assertThat(response.status()).isEqualTo(502);
    assertThat(response.headers().get("x-portico-failure")).isEqualTo("upstream_tls");
    assertThat(serverNames).isEmpty();
  }

  @Test
  void policyWithoutAUsableCaFailsInsteadOfSendingUnverified() {
    serve();
    Response response = probe.get(port, "app.example.com", "/no-ca");
    assertThat(response.status()).isEqualTo(500);
    assertThat(response.headers().get("x-portico-failure"))
        .isEqualTo("invalid_backend_tls_policy");
    assertThat(serverNames).isEmpty();
  }
}
