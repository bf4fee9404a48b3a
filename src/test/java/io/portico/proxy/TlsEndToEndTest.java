package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.portico.testing.TlsProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;

import static org.assertj.core.api.Assertions.assertThat;

/** HTTPS listeners over real TLS: SNI picks the certificate, Secrets reload live. */
class TlsEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private TestGateway gateway;
  private final int port = TestGateway.freePort();

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  private String gatewayYaml() {
    return ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: infra}
        spec:
          gatewayClassName: portico
          listeners:
          - name: a
            protocol: HTTPS
            port: %1$d
            hostname: a.example.com
            tls: {certificateRefs: [{name: cert-a}]}
            allowedRoutes: {namespaces: {from: All}}
          - name: wildcard
            protocol: HTTPS
            port: %1$d
            hostname: "*.example.com"
            tls: {certificateRefs: [{name: cert-wildcard}]}
            allowedRoutes: {namespaces: {from: All}}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: gw, namespace: infra}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        """.formatted(port);
  }

  private TlsProbe.Exchange get(String serverName, String host, X509Certificate... trusted)
      throws Exception {
    return TlsProbe.get(port, serverName, host, "/tls", null, trusted);
  }

  /** The two listeners' certificates. */
  private record Certificates(Pem a, Pem wildcard) {
  }

  /** Serves {@link #gatewayYaml} with a certificate per listener and one pod behind. */
  private Certificates serveWithTwoCertificates() {
    fleet.service("default", "web", 1);
    Pem a = TestCertificates.selfSigned("a.example.com");
    Pem wildcard = TestCertificates.selfSigned("*.example.com");
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "secrets.yaml", a.secretYaml("infra", "cert-a") + "---\n"
            + wildcard.secretYaml("infra", "cert-wildcard"),
        "backends.yaml", fleet.yaml());
    return new Certificates(a, wildcard);
  }

  @Test
  void serverNamePicksTheListenerCertificateAndTheRequestIsForwarded() throws Exception {
    Certificates certificates = serveWithTwoCertificates();
    Pem a = certificates.a();
    Pem wildcard = certificates.wildcard();

    TlsProbe.Exchange exact = get("a.example.com", "a.example.com", a.x509(), wildcard.x509());
    assertThat(exact.peer()).isEqualTo(a.x509());
    assertThat(exact.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(exact.body()).contains("\"pod\":\"web-pod-0\"").contains("\"X-Forwarded-Proto\":[\"https\"]");

    TlsProbe.Exchange other = get("b.example.com", "b.example.com", a.x509(), wildcard.x509());
    assertThat(other.peer()).isEqualTo(wildcard.x509());
    assertThat(other.statusLine()).isEqualTo("HTTP/1.1 200 OK");
  }

  @Test
  void hostOfAnotherListenerThanTheServerNameGets421() throws Exception {
    Certificates certificates = serveWithTwoCertificates();
    Pem a = certificates.a();
    Pem wildcard = certificates.wildcard();

    assertThat(get("b.example.com", "a.example.com", a.x509(), wildcard.x509()).statusLine())
        .isEqualTo("HTTP/1.1 421 Misdirected Request");
  }

  @Test
  void changedSecretServesNewHandshakesWithoutRestart() throws Exception {
    fleet.service("default", "web", 1);
    Pem first = TestCertificates.selfSigned("a.example.com");
    Pem second = TestCertificates.selfSigned("a.example.com");
    Pem wildcard = TestCertificates.selfSigned("*.example.com");
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "secrets.yaml", first.secretYaml("infra", "cert-a") + "---\n"
            + wildcard.secretYaml("infra", "cert-wildcard"),
        "backends.yaml", fleet.yaml());
    assertThat(get("a.example.com", "a.example.com", first.x509(), second.x509()).peer())
        .isEqualTo(first.x509());

    long version = gateway.tableVersion();
    gateway.replaceFile("secrets.yaml", second.secretYaml("infra", "cert-a") + "---\n"
        + wildcard.secretYaml("infra", "cert-wildcard"));
    gateway.awaitTableAfter(version);

    assertThat(get("a.example.com", "a.example.com", first.x509(), second.x509()).peer())
        .isEqualTo(second.x509());
  }

  @Test
  void missingSecretDisablesOnlyItsListenerAndNamesTheSecret() throws Exception {
    fleet.service("default", "web", 1);
    Pem wildcard = TestCertificates.selfSigned("*.example.com");
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "secrets.yaml", wildcard.secretYaml("infra", "cert-wildcard"),
        "backends.yaml", fleet.yaml());

    var listeners = gateway.portico().state().status().gateways()
        .get(new io.portico.resource.ObjectKey("Gateway", "infra", "gw")).getListeners();
    var resolvedRefs = listeners.get(0).getConditions().stream()
        .filter(c -> c.getType().equals("ResolvedRefs")).findFirst().orElseThrow();
    assertThat(resolvedRefs.getStatus()).isEqualTo("False");
    assertThat(resolvedRefs.getReason()).isEqualTo("InvalidCertificateRef");
    assertThat(resolvedRefs.getMessage()).contains("Secret infra/cert-a not found");
    // The other listener still serves, also a.example.com's clients (its wildcard covers them).
    TlsProbe.Exchange exchange = get("a.example.com", "a.example.com", wildcard.x509());
    assertThat(exchange.peer()).isEqualTo(wildcard.x509());
    assertThat(exchange.statusLine()).isEqualTo("HTTP/1.1 200 OK");
  }

  /**
   * Over TLS too (ALPN h2), an {@code :authority} Vert.x's parser throws on is a 400 on its own
   * stream and the connection's next stream is served (see Http2AuthorityGuard).
   */
  @Test
  void http2MalformedAuthorityIsA400OnItsStreamOverTls() throws Exception {
    Pem a = serveWithTwoCertificates().a();
    try (io.portico.testing.RawHttp2 h2 =
        io.portico.testing.RawHttp2.overTls(port, "a.example.com", a.x509())) {
      h2.headers(1, new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET")
              .scheme("https").authority("a.exa%00mple.com").path("/bad"), true)
          .headers(3, new io.netty.handler.codec.http2.DefaultHttp2Headers().method("GET")
              .scheme("https").authority("a.example.com").path("/tls"), true)
          .flush();
      assertThat(h2.awaitStatus(1)).isEqualTo("400");
      assertThat(h2.awaitStatus(3)).isEqualTo("200");
    }
  }
}
