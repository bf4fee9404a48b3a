package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

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
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
        ---
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

  /** One HTTPS request on a fresh connection; returns the status line, body and peer cert. */
  private record Exchange(String statusLine, String body, X509Certificate peer, String protocol) {
  }

  private Exchange get(String serverName, String host, X509Certificate... trusted) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (int i = 0; i < trusted.length; i++) {
      trust.setCertificateEntry("c" + i, trusted[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, tmf.getTrustManagers(), null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(serverName)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      out.write(("GET /tls HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.UTF_8));
      String status = in.readLine();
      StringBuilder rest = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        rest.append(line).append('\n');
      }
      return new Exchange(status, rest.toString(),
          (X509Certificate) socket.getSession().getPeerCertificates()[0],
          socket.getSession().getProtocol());
    }
  }

  @Test
  void serverNamePicksTheListenerCertificateAndTheRequestIsForwarded() throws Exception {
    fleet.service("default", "web", 1);
    Pem a = TestCertificates.selfSigned("a.example.com");
    Pem wildcard = TestCertificates.selfSigned("*.example.com");
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "secrets.yaml", a.secretYaml("infra", "cert-a") + "---\n"
            + wildcard.secretYaml("infra", "cert-wildcard"),
        "backends.yaml", fleet.yaml());

    Exchange exact = get("a.example.com", "a.example.com", a.x509(), wildcard.x509());
    assertThat(exact.peer()).isEqualTo(a.x509());
    assertThat(exact.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(exact.body()).contains("\"pod\":\"web-pod-0\"").contains("\"X-Forwarded-Proto\":[\"https\"]");

    Exchange other = get("b.example.com", "b.example.com", a.x509(), wildcard.x509());
    assertThat(other.peer()).isEqualTo(wildcard.x509());
    assertThat(other.statusLine()).isEqualTo("HTTP/1.1 200 OK");
  }

  @Test
  void hostOfAnotherListenerThanTheServerNameGets421() throws Exception {
    fleet.service("default", "web", 1);
    Pem a = TestCertificates.selfSigned("a.example.com");
    Pem wildcard = TestCertificates.selfSigned("*.example.com");
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(),
        "secrets.yaml", a.secretYaml("infra", "cert-a") + "---\n"
            + wildcard.secretYaml("infra", "cert-wildcard"),
        "backends.yaml", fleet.yaml());

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
    Exchange exchange = get("a.example.com", "a.example.com", wildcard.x509());
    assertThat(exchange.peer()).isEqualTo(wildcard.x509());
    assertThat(exchange.statusLine()).isEqualTo("HTTP/1.1 200 OK");
  }
}
