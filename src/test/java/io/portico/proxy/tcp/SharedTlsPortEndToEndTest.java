package io.portico.proxy.tcp;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoTls;
import io.portico.echo.TcpEchoServer;
import io.portico.ir.StreamProtocol;
import io.portico.testing.EchoFleet;
import io.portico.testing.StreamProbe;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.portico.testing.TlsProbe;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.await;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HTTPS and TLS listeners on one port (Gateway API: compatible protocols, distinct hostnames),
 * over real sockets: the ClientHello's SNI name picks the listener; a TLS listener's connection
 * is passed through (the client sees the backend's certificate), an HTTPS listener's is served
 * by the HTTP proxy with the gateway's certificate and the client's own address in
 * {@code X-Forwarded-For}; a name no listener takes is closed and counted.
 */
class SharedTlsPortEndToEndTest {

  /** A loopback address other than 127.0.0.1, so the client's address is told from Portico's. */
  private static final String CLIENT_ADDRESS = "127.0.0.2";

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private final int port = TestGateway.freePort();
  private final Pem webCert = TestCertificates.selfSigned("web.example.com", "move.example.com");
  private final Pem backendCert = TestCertificates.selfSigned("a.example.com",
      "move.example.com");
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
    await(vertx.close().toCompletionStage().toCompletableFuture());
  }

  private String config(String httpsHostname, String tlsHostname, int passthroughPort) {
    String tlsListener = tlsHostname == null ? "" : """
          - name: tls
            protocol: TLS
            port: %d
            hostname: "%s"
            tls: {mode: Passthrough}
        """.formatted(port, tlsHostname);
    String tlsRoute = tlsHostname == null ? "" : """
        apiVersion: gateway.networking.k8s.io/v1
        kind: TLSRoute
        metadata: {name: passed, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: tls}]
          rules:
          - backendRefs: [{name: backend-a, port: 443}]
        ---
        """;
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - name: https
            protocol: HTTPS
            port: %1$d
            hostname: "%2$s"
            tls: {certificateRefs: [{name: web-cert}]}
        %3$s
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: https}]
          rules:
          - backendRefs: [{name: web, port: 80}]
        ---
        """.formatted(port, httpsHostname, tlsListener)
        + tlsRoute + webCert.secretYaml("default", "web-cert") + "---\n"
        + service("default", "backend-a", 443, passthroughPort) + fleet.yaml();
  }

  private int passthroughBackend() {
    return await(TcpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, "backend-a-pod",
        "default").withTls(new EchoTls(backendCert.certificate(), backendCert.key(), null)))
        .toCompletionStage().toCompletableFuture()).port();
  }

  /** What an HTTPS GET from {@link #CLIENT_ADDRESS} got: the echo's JSON and the certificate. */
  private record Answer(String statusLine, JsonObject echo, X509Certificate peer) {
  }

  private Answer httpsGet(String serverName) throws IOException {
    try (SSLSocket socket = (SSLSocket) StreamProbe.context(webCert.x509()).getSocketFactory()
        .createSocket(InetAddress.getByName("127.0.0.1"), port,
            InetAddress.getByName(CLIENT_ADDRESS), 0)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(serverName)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      socket.getOutputStream().write(("GET /hello HTTP/1.1\r\nHost: " + serverName
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      String statusLine = response.substring(0, response.indexOf("\r\n"));
      String body = response.substring(response.indexOf("\r\n\r\n") + 4);
      return new Answer(statusLine, new JsonObject(body),
          (X509Certificate) socket.getSession().getPeerCertificates()[0]);
    }
  }

  @Test
  void theSniNamePicksTheHttpsOrTheTlsListenerOfOnePort() throws IOException {
    fleet.service("default", "web", 1);
    gateway = TestGateway.start(directory, "gateway.yaml",
        config("web.example.com", "a.example.com", passthroughBackend()));

    Answer https = httpsGet("web.example.com");
    assertThat(https.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(https.peer()).isEqualTo(webCert.x509());
    assertThat(https.echo().getString("pod")).isEqualTo("web-pod-0");
    assertThat(https.echo().getJsonObject("headers").getJsonArray("X-Forwarded-For").getString(0))
        .as("the client's own address, not the handoff's").isEqualTo(CLIENT_ADDRESS);
    assertThat(https.echo().getJsonObject("headers").getJsonArray("X-Forwarded-Proto")
        .getString(0)).isEqualTo("https");

    StreamProbe.Dialogue passed = StreamProbe.tls(port, "a.example.com", backendCert.x509());
    assertThat(passed.peer()).as("passed through: the backend's certificate")
        .isEqualTo(backendCert.x509());
    assertThat(passed.pod()).isEqualTo("backend-a-pod");
    assertThat(gateway.portico().streamMetrics().total(StreamProtocol.TLS, "https"))
        .isEqualTo(1);
  }

  @Test
  void aNameNoListenerTakesIsClosedAndCounted() {
    fleet.service("default", "web", 1);
    gateway = TestGateway.start(directory, "gateway.yaml",
        config("web.example.com", "a.example.com", passthroughBackend()));

    assertThatThrownBy(() -> httpsGet("other.example.org")).isInstanceOf(IOException.class);
    TestGateway.awaitCondition("no_route counted", () -> gateway.portico().streamMetrics()
        .total(StreamProtocol.TLS, "no_route") == 1);
  }

  @Test
  void http2ByAlpnIsServedThroughTheSharedPort() {
    fleet.service("default", "web", 1);
    gateway = TestGateway.start(directory, "gateway.yaml",
        config("web.example.com", "a.example.com", passthroughBackend()));

    var client = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setTrustOptions(new PemTrustOptions()
            .addCertValue(Buffer.buffer(webCert.certificate()))));
    Object[] response = await(client.request(new RequestOptions().setMethod(HttpMethod.GET)
            .setServer(SocketAddress.inetSocketAddress(port, "127.0.0.1"))
            .setHost("web.example.com").setPort(port).setURI("/h2"))
        // The body handler is set in the turn the head arrives (see RelayBuffersEndToEndTest.get).
        .compose(request -> request.send().compose(r -> r.body()
            .map(body -> new Object[] {r.version(), body.toJsonObject()})))
        .toCompletionStage().toCompletableFuture());
    assertThat(response[0]).isEqualTo(HttpVersion.HTTP_2);
    assertThat(((JsonObject) response[1]).getString("pod")).isEqualTo("web-pod-0");
  }

  @Test
  void clientCertificatesAreCheckedForTheHttpsListenerOfASharedPort() throws Exception {
    fleet.service("default", "web", 1);
    Pem clientCa = TestCertificates.certificateAuthority("clients");
    String config = config("web.example.com", "a.example.com", passthroughBackend())
        .replace("  gatewayClassName: portico\n", """
              gatewayClassName: portico
              tls:
                frontend:
                  default:
                    validation:
                      caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]
            """);
    gateway = TestGateway.start(directory, "gateway.yaml", config, "ca.yaml",
        clientCa.caConfigMapYaml("default", "client-ca"));

    Pem alice = TestCertificates.clientCertificate(clientCa, "alice");
    assertThat(TlsProbe.get(port, "web.example.com", "web.example.com", "/", alice,
        webCert.x509()).statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThatThrownBy(() -> TlsProbe.get(port, "web.example.com", "web.example.com", "/", null,
        webCert.x509())).as("no client certificate").isInstanceOf(IOException.class);
    // The TLS listener's connections are the backend's TLS: passed through as before.
    assertThat(StreamProbe.tls(port, "a.example.com", backendCert.x509()).pod())
        .isEqualTo("backend-a-pod");
  }

  @Test
  void aHostnameMovesBetweenTheHttpsAndTheTlsListenerOnReload() throws IOException {
    fleet.service("default", "web", 1);
    int backend = passthroughBackend();
    // The port is HTTPS alone: the HTTP proxy owns it.
    gateway = TestGateway.start(directory, "gateway.yaml",
        config("move.example.com", null, backend));
    assertThat(httpsGet("move.example.com").echo().getString("pod")).isEqualTo("web-pod-0");

    // A TLS listener joins the port and takes the name: the stream proxy owns the port now.
    long version = gateway.tableVersion();
    gateway.replaceFile("gateway.yaml", config("web.example.com", "move.example.com", backend));
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("move.example.com passed through", () -> {
      try {
        return StreamProbe.tls(port, "move.example.com", backendCert.x509()).pod()
            .equals("backend-a-pod");
      } catch (IOException stillRebinding) {
        return false;
      }
    });
    assertThat(httpsGet("web.example.com").echo().getString("pod")).isEqualTo("web-pod-0");

    // And back: the TLS listener leaves, the HTTPS listener takes the name and the port again.
    version = gateway.tableVersion();
    gateway.replaceFile("gateway.yaml", config("move.example.com", null, backend));
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("move.example.com served over HTTPS again", () -> {
      try {
        return httpsGet("move.example.com").peer().equals(webCert.x509());
      } catch (IOException | RuntimeException stillRebinding) {
        return false;
      }
    });
    Answer answer = httpsGet("move.example.com");
    assertThat(answer.echo().getJsonObject("headers").getJsonArray("X-Forwarded-For")
        .getString(0)).isEqualTo(CLIENT_ADDRESS);

    // Shared once more: the HTTP proxy's handoff socket is bound anew at the same path.
    version = gateway.tableVersion();
    gateway.replaceFile("gateway.yaml", config("web.example.com", "move.example.com", backend));
    gateway.awaitTableAfter(version);
    TestGateway.awaitCondition("web.example.com handed over again", () -> {
      try {
        return httpsGet("web.example.com").echo().getString("pod").equals("web-pod-0");
      } catch (IOException | RuntimeException stillRebinding) {
        return false;
      }
    });
  }
}
