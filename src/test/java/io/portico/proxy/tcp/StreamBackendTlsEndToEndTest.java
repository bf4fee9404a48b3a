package io.portico.proxy.tcp;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoTls;
import io.portico.echo.TcpEchoServer;
import io.portico.proxy.BackendTlsEndToEndTest;
import io.portico.testing.StreamProbe;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.service;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A BackendTLSPolicy on a TCPRoute's Service: Portico speaks TLS to the backend as it does for
 * HTTP routes, with the same engine and cipher suites (OpenSSL, Mozilla intermediate).
 */
class StreamBackendTlsEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final Pem ca = TestCertificates.certificateAuthority("stream test CA");
  private final Pem backendCert = TestCertificates.serverCertificate(ca, "backend.example.com");
  private final int securePort = TestGateway.freePort();
  private final int cbcPort = TestGateway.freePort();
  private TestGateway gateway;

  @AfterEach
  void stop() throws Exception {
    if (gateway != null) {
      gateway.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void backendsAreReachedOverTlsWithTheHttpsSuitesOnly() throws Exception {
    int secure = TcpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, "secure-pod",
            "default").withTls(new EchoTls(backendCert.certificate(), backendCert.key(), null)))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).port();
    // A backend that speaks only TLS 1.2 with a CBC suite, which the HTTPS listeners and HTTP
    // upstreams do not offer either.
    int cbcOnly = vertx.createNetServer(new NetServerOptions().setSsl(true)
            .setKeyCertOptions(new PemKeyCertOptions()
                .setCertValue(Buffer.buffer(backendCert.certificate()))
                .setKeyValue(Buffer.buffer(backendCert.key())))
            .setEnabledSecureTransportProtocols(Set.of("TLSv1.2"))
            .addEnabledCipherSuite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"))
        .connectHandler(socket -> socket.write("hello from cbc\n"))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS).actualPort();
    gateway = TestGateway.start(directory, "gateway.yaml", GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: secure, protocol: TCP, port: %d}
          - {name: cbc, protocol: TCP, port: %d}
        ---
        """.formatted(securePort, cbcPort)
        + tcpRoute("secure") + tcpRoute("cbc")
        + service("default", "secure", 443, secure) + service("default", "cbc", 443, cbcOnly)
        + policy("secure") + policy("cbc")
        + ca.caConfigMapYaml("default", "ca"));

    StreamProbe.Dialogue dialogue = StreamProbe.tcp(securePort);
    assertThat(dialogue.pod()).isEqualTo("secure-pod");
    assertThat(dialogue.test().getBoolean("isTLS")).isTrue();

    try (Socket socket = new Socket("127.0.0.1", cbcPort)) {
      socket.setSoTimeout(10_000);
      InputStream in = socket.getInputStream();
      assertThat(firstBytes(in)).as("what the CBC-only backend got through").isEmpty();
    }
  }

  /**
   * Returns the first bytes that arrive, or "" when the gateway closes the connection (an end
   * of stream or a reset); a read that times out fails the test.
   */
  private static String firstBytes(InputStream in) throws IOException {
    byte[] first = new byte[256];
    try {
      int n = in.read(first);
      return n < 0 ? "" : new String(first, 0, n, StandardCharsets.US_ASCII);
    } catch (SocketTimeoutException silence) {
      throw silence;
    } catch (SocketException reset) {
      return "";
    }
  }

  private static String tcpRoute(String name) {
    return """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: %1$s, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: %1$s}]
          rules: [{backendRefs: [{name: %1$s, port: 443}]}]
        ---
        """.formatted(name);
  }

  private static String policy(String service) {
    return BackendTlsEndToEndTest.policy(service, "ca", "backend.example.com");
  }
}
