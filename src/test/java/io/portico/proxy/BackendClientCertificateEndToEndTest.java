package io.portico.proxy;

import io.portico.testing.HttpProbe;
import io.portico.testing.HttpProbe.Response;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Gateway {@code spec.tls.backend.clientCertificateRef} end to end: an HTTPS backend that
 * requires a client certificate from its CA accepts Portico's connections from a Gateway that
 * names the certificate, and refuses the handshake (502) from a Gateway without one.
 */
class BackendClientCertificateEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final HttpProbe probe = new HttpProbe();
  private final int withCertificate = TestGateway.freePort();
  private final int withoutCertificate = TestGateway.freePort();
  private final Pem ca = TestCertificates.certificateAuthority("backends");
  private final Pem clientCa = TestCertificates.certificateAuthority("gateway-clients");
  private final Pem backendCert = TestCertificates.serverCertificate(ca, "backend.example.com");
  private final Pem clientCert = TestCertificates.clientCertificate(clientCa, "portico-gateway");
  private final List<String> clientSubjects = new CopyOnWriteArrayList<>();
  private HttpServer backend;
  private TestGateway gateway;

  @BeforeEach
  void startBackend() throws Exception {
    backend = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setSni(true)
            .setClientAuth(ClientAuth.REQUIRED)
            .setTrustOptions(new PemTrustOptions()
                .addCertValue(Buffer.buffer(clientCa.certificate())))
            .setKeyCertOptions(new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(backendCert.certificate()))
                .setKeyValue(Buffer.buffer(backendCert.key()))))
        .requestHandler(request -> {
          try {
            X509Certificate peer = (X509Certificate) request.connection().sslSession()
                .getPeerCertificates()[0];
            clientSubjects.add(peer.getSubjectX500Principal().getName());
          } catch (Exception e) {
            clientSubjects.add("none: " + e);
          }
          request.response().end("mutual " + request.path());
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

  private void serve() {
    String config = ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: with-certificate, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, protocol: HTTP, port: %1$d}]
          tls: {backend: {clientCertificateRef: {group: "", kind: Secret, name: gateway-client}}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: without-certificate, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, protocol: HTTP, port: %2$d}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: with-certificate}, {name: without-certificate}]
          rules:
          - backendRefs: [{name: mutual, port: 443}]
        ---
        """.formatted(withCertificate, withoutCertificate);
    String backends = """
        apiVersion: v1
        kind: Service
        metadata: {name: mutual, namespace: default}
        spec:
          ports: [{name: https, port: 443, targetPort: 8443}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: mutual-1, namespace: default, labels: {kubernetes.io/service-name: mutual}}
        addressType: IPv4
        ports: [{name: https, port: %d}]
        endpoints: [{addresses: [127.0.0.1]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: BackendTLSPolicy
        metadata: {name: mutual, namespace: default}
        spec:
          targetRefs: [{group: "", kind: Service, name: mutual}]
          validation:
            caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
            hostname: backend.example.com
        ---
        """.formatted(backend.actualPort())
        + ca.caConfigMapYaml("default", "ca") + "---\n"
        + clientCert.secretYaml("default", "gateway-client");
    gateway = TestGateway.start(directory, "gateway.yaml", config, "backends.yaml", backends);
  }

  @Test
  void gatewayPresentsItsBackendClientCertificate() {
    serve();
    Response response = probe.get(withCertificate, "app.example.com", "/hello");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("mutual /hello");
    assertThat(clientSubjects).containsExactly("O=Portico tests,CN=portico-gateway");
  }

  @Test
  void gatewayWithoutAClientCertificateFailsTheHandshake() {
    serve();
    Response response = probe.get(withoutCertificate, "app.example.com", "/hello");
    assertThat(response.status()).isEqualTo(502);
    assertThat(clientSubjects).isEmpty();
  }

  @Test
  void bothGatewaysShareTheBackendWithTheirOwnClients() {
    serve();
    assertThat(probe.get(withCertificate, "app.example.com", "/a").status()).isEqualTo(200);
    assertThat(probe.get(withoutCertificate, "app.example.com", "/b").status()).isEqualTo(502);
    assertThat(probe.get(withCertificate, "app.example.com", "/c").status()).isEqualTo(200);
    assertThat(clientSubjects).hasSize(2);
  }
}
