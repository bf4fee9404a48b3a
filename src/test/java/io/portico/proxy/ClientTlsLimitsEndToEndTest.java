package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import static io.portico.proxy.StrictFramingEndToEndTest.ascii;
import static io.portico.proxy.StrictFramingEndToEndTest.readAll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Client limits on an HTTPS listener: the TLS handshake has a deadline, the first request head
 * too (408), and a client-initiated renegotiation is refused (BoringSSL never renegotiates as
 * a server; probed with openssl s_client when it is installed).
 */
class ClientTlsLimitsEndToEndTest {

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private TestGateway gateway;
  private final int port = TestGateway.freePort();

  @BeforeEach
  void start() {
    fleet.service("default", "web", 1);
    Pem certificate = TestCertificates.selfSigned("a.example.com");
    gateway = TestGateway.start(directory, options -> options.withProxy(options.proxy()
            .withClient(ClientLimits.DEFAULTS.withTlsHandshakeTimeoutMillis(500)
                .withRequestHeadersTimeoutMillis(500))),
        "gateway.yaml", ProxyEndToEndTest.GATEWAY_CLASS + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: infra}
            spec:
              gatewayClassName: portico
              listeners:
              - name: a
                protocol: HTTPS
                port: %d
                hostname: a.example.com
                tls: {certificateRefs: [{name: cert-a}]}
                allowedRoutes: {namespaces: {from: All}}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: web, namespace: default}
            spec:
              parentRefs: [{name: gw, namespace: infra}]
              rules: [{backendRefs: [{name: web, port: 80}]}]
            """.formatted(port),
        "secrets.yaml", certificate.secretYaml("infra", "cert-a"),
        "backends.yaml", fleet.yaml());
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  @Test
  void aClientThatNeverFinishesItsHandshakeIsClosed() throws IOException {
    try (Socket silent = new Socket("127.0.0.1", port)) {
      silent.setSoTimeout(20_000);
      assertThat(readAll(silent.getInputStream())).isEmpty(); // returns once closed
    }
  }

  @Test
  void aFirstRequestHeadThatStopsHalfWayGets408() throws Exception {
    try (SSLSocket socket = (SSLSocket) trustAll().getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(20_000);
      socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: a.exam"));
      socket.getOutputStream().flush();
      assertThat(readAll(socket.getInputStream())).startsWith("HTTP/1.1 408")
          .containsIgnoringCase("connection: close");
    }
  }

  @Test
  void clientInitiatedRenegotiationIsRefused() throws Exception {
    Process openssl;
    try {
      openssl = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port,
          "-servername", "a.example.com", "-tls1_2", "-legacy_renegotiation")
          .redirectErrorStream(true).start();
    } catch (IOException missing) {
      System.out.println("openssl not installed: renegotiation probe skipped (" + missing + ")");
      Assumptions.abort("openssl not installed");
      return;
    }
    // "R" asks s_client to renegotiate (TLS 1.2: TLS 1.3 has no renegotiation), then a request.
    openssl.getOutputStream().write(("R\nGET / HTTP/1.1\r\nHost: a.example.com\r\n"
        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    openssl.getOutputStream().flush();
    openssl.getOutputStream().close();
    assertThat(openssl.waitFor(20, TimeUnit.SECONDS)).isTrue();
    String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    // The server answers the renegotiation's ClientHello with the no_renegotiation alert (100),
    // and the request after it is never served.
    assertThat(output).contains("RENEGOTIATING").containsIgnoringCase("no renegotiation")
        .doesNotContain("HTTP/1.1 200");
  }

  private static SSLContext trustAll() throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    return context;
  }
}
