package io.portico.proxy.tcp;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoTls;
import io.portico.echo.TcpEchoServer;
import io.portico.ir.StreamProtocol;
import io.portico.testing.StreamProbe;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS passthrough over real sockets: TLS echo backends with their own certificates behind a
 * {@code protocol: TLS, tls.mode: Passthrough} listener and TLSRoutes; the client must see the
 * backend's certificate, proving nothing was terminated on the way.
 */
class TlsPassthroughEndToEndTest {

  static final String GATEWAY_CLASS = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      """;

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final int port = TestGateway.freePort();
  private final Pem certA = TestCertificates.selfSigned("a.example.com");
  private final Pem certB = TestCertificates.selfSigned("*.example.com");
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    await(vertx.close().toCompletionStage().toCompletableFuture());
  }

  /** A Service on port 443 whose one endpoint is {@code backendPort} on 127.0.0.1. */
  static String service(String namespace, String name, int servicePort, int... backendPorts) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s}
        spec:
          ports: [{name: main, port: %d, targetPort: main}]
        ---
        """.formatted(name, namespace, servicePort));
    for (int i = 0; i < backendPorts.length; i++) {
      yaml.append("""
          apiVersion: discovery.k8s.io/v1
          kind: EndpointSlice
          metadata:
            name: %1$s-%2$d
            namespace: %3$s
            labels: {kubernetes.io/service-name: %1$s}
          addressType: IPv4
          ports: [{name: main, port: %4$d}]
          endpoints:
          - addresses: [127.0.0.1]
            conditions: {ready: true}
          ---
          """.formatted(name, i, namespace, backendPorts[i]));
    }
    return yaml.toString();
  }

  private int tlsEchoBackend(String pod, Pem certificate) {
    return await(TcpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, pod, "default")
        .withTls(new EchoTls(certificate.certificate(), certificate.key(), null)))
        .toCompletionStage().toCompletableFuture()).port();
  }

  private String passthroughGateway(String listenerHostname) {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - name: tls
            protocol: TLS
            port: %d
            %s
            tls: {mode: Passthrough}
        ---
        """.formatted(port, listenerHostname == null ? "" : "hostname: \"" + listenerHostname + "\"");
  }

  /**
   * A Gateway whose TLS port terminates {@code term.example.com} (certificate Secret
   * {@code term-cert}) and passes {@code a.example.com} through.
   */
  private String terminateAndPassthroughGateway() {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - name: terminate
            protocol: TLS
            port: %1$d
            hostname: term.example.com
            tls: {mode: Terminate, certificateRefs: [{name: term-cert}]}
          - name: passthrough
            protocol: TLS
            port: %1$d
            hostname: a.example.com
            tls: {mode: Passthrough}
        ---
        """.formatted(port);
  }

  private static String tlsRoute(String name, String hostnames, String backend) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: TLSRoute
        metadata: {name: %s, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: %s
          rules:
          - backendRefs: [{name: %s, port: 443}]
        ---
        """.formatted(name, hostnames, backend);
  }

  private void startTwoRoutes() {
    int a = tlsEchoBackend("backend-a-pod", certA);
    int b = tlsEchoBackend("backend-b-pod", certB);
    gateway = TestGateway.start(directory, "gateway.yaml", passthroughGateway("*.example.com")
        + tlsRoute("exact", "[a.example.com]", "backend-a")
        + tlsRoute("wildcard", "[\"*.example.com\"]", "backend-b")
        + service("default", "backend-a", 443, a)
        + service("default", "backend-b", 443, b));
  }

  @Test
  void passthroughRelaysToTheBackendChosenBySniAndTheClientSeesItsCertificate() throws IOException {
    startTwoRoutes();

    StreamProbe.Dialogue exact = StreamProbe.tls(port, "a.example.com", certA.x509());
    assertThat(exact.peer()).isEqualTo(certA.x509());
    assertThat(exact.pod()).isEqualTo("backend-a-pod");
    assertThat(exact.test().getJsonObject("tls").getString("serverName"))
        .isEqualTo("a.example.com");

    StreamProbe.Dialogue wildcard = StreamProbe.tls(port, "z.example.com", certB.x509());
    assertThat(wildcard.peer()).isEqualTo(certB.x509());
    assertThat(wildcard.pod()).isEqualTo("backend-b-pod");
  }

  @Test
  void unknownServerNameIsClosedAndCounted() {
    startTwoRoutes();
    long before = gateway.portico().streamMetrics().total(StreamProtocol.TLS, "no_route");

    assertThatThrownBy(() -> StreamProbe.tls(port, "other.org", certA.x509()))
        .isInstanceOf(IOException.class);

    TestGateway.awaitCondition("no_route counted", () -> gateway.portico().streamMetrics()
        .total(StreamProtocol.TLS, "no_route") == before + 1);
  }

  @Test
  void nonTlsFirstBytesAreClosedCleanly() throws IOException {
    startTwoRoutes();
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      assertThat(socket.getInputStream().read()).as("end of stream, no answer").isEqualTo(-1);
    }
    TestGateway.awaitCondition("not_tls counted", () -> gateway.portico().streamMetrics()
        .total(StreamProtocol.TLS, "not_tls") == 1);
  }

  @Test
  void clientHelloSentOneByteAtATimeIsStillRouted() throws Exception {
    startTwoRoutes();
    // A relay in front of the gateway that forwards what the client sends one byte per write
    // (TCP_NODELAY), so the ClientHello reaches the gateway in as many segments as the network
    // stack keeps apart.
    try (java.net.ServerSocket relay = new java.net.ServerSocket(0)) {
      CompletableFuture<Void> relaying = CompletableFuture.runAsync(() -> {
        try (Socket client = relay.accept(); Socket upstream = new Socket("127.0.0.1", port)) {
          upstream.setTcpNoDelay(true);
          CompletableFuture<Void> back = CompletableFuture.runAsync(
              () -> copy(upstream, client, 8192));
          copy(client, upstream, 1);
          back.join();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      StreamProbe.Dialogue dialogue = StreamProbe.tls(relay.getLocalPort(), "a.example.com",
          certA.x509());
      assertThat(dialogue.pod()).isEqualTo("backend-a-pod");
      assertThat(dialogue.peer()).isEqualTo(certA.x509());
      relaying.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static void copy(Socket from, Socket to, int chunk) {
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      byte[] buffer = new byte[8192];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        for (int i = 0; i < n; i += chunk) {
          out.write(buffer, i, Math.min(chunk, n - i));
          out.flush();
        }
      }
      to.shutdownOutput();
    } catch (IOException e) {
      // One side closed: the dialogue is over.
    }
  }

  @Test
  void aLargeTransferIsRelayedBothWaysIntact() throws Exception {
    // A raw TLS echo: whatever the client sends comes back, so 8 MiB in flight both ways
    // exercises the back-pressure of both directions.
    NetServer echo = vertx.createNetServer(new NetServerOptions().setSsl(true)
        .setKeyCertOptions(new PemKeyCertOptions()
            .addCertValue(Buffer.buffer(certA.certificate()))
            .addKeyValue(Buffer.buffer(certA.key()))));
    echo.connectHandler(socket -> socket.pipeTo(socket));
    int echoPort = await(echo.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture())
        .actualPort();
    gateway = TestGateway.start(directory, "gateway.yaml", passthroughGateway(null)
        + tlsRoute("echo", "[a.example.com]", "echo") + service("default", "echo", 443, echoPort));

    byte[] payload = new byte[8 * 1024 * 1024];
    new java.util.Random(7).nextBytes(payload);
    try (SSLSocket socket = (SSLSocket) StreamProbe.context(certA.x509()).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(java.util.List.of(new SNIHostName("a.example.com")));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      CompletableFuture<Void> writing = CompletableFuture.runAsync(() -> {
        try {
          socket.getOutputStream().write(payload);
          socket.getOutputStream().flush();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      byte[] received = socket.getInputStream().readNBytes(payload.length);
      writing.get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(received.length).isEqualTo(payload.length);
      assertThat(Arrays.equals(MessageDigest.getInstance("SHA-256").digest(received),
          MessageDigest.getInstance("SHA-256").digest(payload))).isTrue();
    }
  }

  @Test
  void terminateAndPassthroughListenersShareAPortChosenBySni() throws IOException {
    Pem gatewayCert = TestCertificates.selfSigned("term.example.com");
    int plain = await(TcpEchoServer.start(vertx,
        new EchoOptions("127.0.0.1", 0, "plain-pod", "default"))
        .toCompletionStage().toCompletableFuture()).port();
    int passthrough = tlsEchoBackend("backend-a-pod", certA);
    gateway = TestGateway.start(directory, "gateway.yaml", terminateAndPassthroughGateway()
        + gatewayCert.secretYaml("default", "term-cert") + "---\n"
        + tlsRoute("terminated", "[term.example.com]", "plain")
        + tlsRoute("passed", "[a.example.com]", "backend-a")
        + service("default", "plain", 443, plain)
        + service("default", "backend-a", 443, passthrough));

    StreamProbe.Dialogue terminated = StreamProbe.tls(port, "term.example.com",
        gatewayCert.x509());
    assertThat(terminated.peer()).isEqualTo(gatewayCert.x509());
    assertThat(terminated.pod()).isEqualTo("plain-pod");
    assertThat(terminated.test().getBoolean("isTLS")).isFalse();

    StreamProbe.Dialogue passed = StreamProbe.tls(port, "a.example.com", certA.x509());
    assertThat(passed.peer()).isEqualTo(certA.x509());
    assertThat(passed.test().getBoolean("isTLS")).isTrue();
  }

  /**
   * A listener Portico terminates itself offers what the HTTPS listeners offer: OpenSSL with
   * Mozilla's intermediate cipher suites, so a client that only speaks CBC is refused, and one
   * with an AEAD suite is served.
   */
  @Test
  void terminateListenersOfferTheHttpsListenersCipherSuites() throws Exception {
    Pem gatewayCert = TestCertificates.selfSigned("term.example.com");
    int plain = await(TcpEchoServer.start(vertx,
        new EchoOptions("127.0.0.1", 0, "plain-pod", "default"))
        .toCompletionStage().toCompletableFuture()).port();
    gateway = TestGateway.start(directory, "gateway.yaml", terminateAndPassthroughGateway()
        + gatewayCert.secretYaml("default", "term-cert") + "---\n"
        + tlsRoute("terminated", "[term.example.com]", "plain")
        + service("default", "plain", 443, plain));

    assertThat(handshakeWith("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"))
        .isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assertThatThrownBy(() -> handshakeWith("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"))
        .isInstanceOf(SSLException.class);
  }

  /** A TLS 1.2 handshake with the Terminate listener offering only {@code suite}. */
  private String handshakeWith(String suite) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new TrustingManager()}, null);
    try (SSLSocket socket = (SSLSocket)
        context.getSocketFactory().createSocket("127.0.0.1", port)) {
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName("term.example.com")));
      parameters.setProtocols(new String[] {"TLSv1.2"});
      parameters.setCipherSuites(new String[] {suite});
      socket.setSSLParameters(parameters);
      socket.setSoTimeout(5_000);
      socket.startHandshake();
      return socket.getSession().getCipherSuite();
    }
  }

  /** Trusts any server: the test is about what is negotiated, not whom. */
  private static final class TrustingManager implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String type) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String type) {
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  @Test
  void aBackendWithoutReadyEndpointsClosesTheConnection() {
    gateway = TestGateway.start(directory, "gateway.yaml", passthroughGateway(null)
        + tlsRoute("empty", "[a.example.com]", "empty") + service("default", "empty", 443));

    assertThatThrownBy(() -> StreamProbe.tls(port, "a.example.com", certA.x509()))
        .isInstanceOf(IOException.class);
    TestGateway.awaitCondition("no_endpoints counted", () -> gateway.portico().streamMetrics()
        .total(StreamProtocol.TLS, "no_endpoints") == 1);
  }

  static <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("operation failed: " + e, e);
    }
  }
}
