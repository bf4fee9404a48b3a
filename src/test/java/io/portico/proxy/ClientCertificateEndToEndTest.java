package io.portico.proxy;

import io.portico.resource.ObjectKey;
import io.portico.testing.EchoFleet;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.portico.testing.TlsProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Gateway frontend TLS validation: client certificates checked against ConfigMap CAs. */
class ClientCertificateEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private TestGateway gateway;
  private final int port = TestGateway.freePort();
  private final Pem server = TestCertificates.selfSigned("secure.example.com");
  private final Pem clientCa = TestCertificates.certificateAuthority("clients");
  private final Pem otherCa = TestCertificates.certificateAuthority("strangers");

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  private void serve(String validation) {
    fleet.service("default", "web", 1);
    String gatewayYaml = ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          tls:
            frontend:
              default:
                validation:
        %s
          listeners:
          - name: https
            protocol: HTTPS
            port: %d
            tls: {certificateRefs: [{name: server-cert}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        """.formatted(validation.indent(10).stripTrailing(), port);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml,
        "tls.yaml", server.secretYaml("default", "server-cert") + "---\n"
            + clientCa.caConfigMapYaml("default", "client-ca"),
        "backends.yaml", fleet.yaml());
  }

  @Test
  void clientWithACertificateFromTheConfiguredCaIsServedOthersAreRefused() throws Exception {
    serve("caCertificateRefs: [{group: \"\", kind: ConfigMap, name: client-ca}]");

    Pem trusted = TestCertificates.clientCertificate(clientCa, "alice");
    assertThat(TlsProbe.get(port, "secure.example.com", "secure.example.com", "/", trusted,
        server.x509()).statusLine()).isEqualTo("HTTP/1.1 200 OK");
    Pem stranger = TestCertificates.clientCertificate(otherCa, "mallory");
    assertThatThrownBy(() -> TlsProbe.get(port, "secure.example.com", "secure.example.com", "/",
        stranger, server.x509())).isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(() -> TlsProbe.get(port, "secure.example.com", "secure.example.com", "/",
        null, server.x509())).isInstanceOf(java.io.IOException.class);
  }

  @Test
  void insecureFallbackServesClientsWithoutAValidCertificate() throws Exception {
    serve("""
        mode: AllowInsecureFallback
        caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]""");

    assertThat(TlsProbe.get(port, "secure.example.com", "secure.example.com", "/", null,
        server.x509()).statusLine()).isEqualTo("HTTP/1.1 200 OK");
    Pem stranger = TestCertificates.clientCertificate(otherCa, "mallory");
    assertThat(TlsProbe.get(port, "secure.example.com", "secure.example.com", "/", stranger,
        server.x509()).statusLine()).isEqualTo("HTTP/1.1 200 OK");
  }

  @Test
  void missingCaConfigMapRefusesTheGatewayWithTheSpecReasons() {
    serve("caCertificateRefs: [{group: \"\", kind: ConfigMap, name: no-such-ca}]");

    var status = gateway.portico().state().status().gateways()
        .get(new ObjectKey("Gateway", "default", "gw"));
    assertThat(status.getConditions()).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("Accepted");
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("NoValidCACertificate");
      assertThat(c.getMessage()).contains("ConfigMap default/no-such-ca not found");
    });
    assertThat(status.getConditions()).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("ResolvedRefs");
      assertThat(c.getReason()).isEqualTo("InvalidCACertificateRef");
    });
    assertThatThrownBy(() -> TlsProbe.get(port, "secure.example.com", "secure.example.com", "/",
        null, server.x509())).isInstanceOf(java.io.IOException.class);
  }
}
