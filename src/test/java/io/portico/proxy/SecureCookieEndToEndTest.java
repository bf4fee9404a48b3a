package io.portico.proxy;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestCertificates;
import io.portico.testing.TestCertificates.Pem;
import io.portico.testing.TestGateway;
import io.portico.testing.TlsProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The affinity cookie (BackendTrafficPolicy) and the sessionPersistence cookie over a real TLS
 * listener carry {@code Secure}; the same route on a plain HTTP listener sends them without.
 */
class SecureCookieEndToEndTest {

  private static final String HOST = "app.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway gateway;
  private final int httpPort = TestGateway.freePort();
  private final int httpsPort = TestGateway.freePort();

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    fleet.close();
  }

  @Test
  void cookiesAreSecureOnHttpsAndNotOnHttp() throws Exception {
    fleet.service("default", "web", 2);
    Pem certificate = TestCertificates.selfSigned(HOST);
    gateway = TestGateway.start(directory, "gateway.yaml", ProxyEndToEndTest.GATEWAY_CLASS + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: default}
            spec:
              gatewayClassName: portico
              listeners:
              - {name: http, protocol: HTTP, port: %d}
              - name: https
                protocol: HTTPS
                port: %d
                tls: {certificateRefs: [{name: cert}]}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: app, namespace: default}
            spec:
              parentRefs: [{name: gw}]
              hostnames: [%s]
              rules:
              - backendRefs: [{name: web, port: 80}]
                sessionPersistence: {sessionName: sid}
            ---
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: sticky, namespace: default}
            spec:
              targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}
              sessionAffinity:
                type: Cookie
                cookie: {name: lb, ttl: 60s}
            """.formatted(httpPort, httpsPort, HOST),
        "secrets.yaml", certificate.secretYaml("default", "cert"),
        "backends.yaml", fleet.yaml());

    TlsProbe.Exchange https = TlsProbe.get(httpsPort, HOST, HOST, "/", null, certificate.x509());
    List<String> secure = https.headers("set-cookie");
    System.out.println("secure cookies: HTTPS listener -> " + secure);
    assertThat(https.statusLine()).isEqualTo("HTTP/1.1 200 OK");
    assertThat(secure).hasSize(2).anySatisfy(c -> assertThat(c)
        .matches("lb=[0-9a-f]{16}; Max-Age=60; Path=/; HttpOnly; Secure"))
        .anySatisfy(c -> assertThat(c)
            .matches("sid=[0-9a-f]{16}\\.[0-9a-f]+; Path=/; HttpOnly; Secure"));

    HttpProbe.Response http = probe.get(httpPort, HOST, "/");
    List<String> plain = http.headers().getAll("set-cookie");
    System.out.println("secure cookies: HTTP listener -> " + plain);
    assertThat(http.status()).isEqualTo(200);
    assertThat(plain).hasSize(2).anySatisfy(c -> assertThat(c)
        .matches("lb=[0-9a-f]{16}; Max-Age=60; Path=/; HttpOnly"))
        .anySatisfy(c -> assertThat(c).matches("sid=[0-9a-f]{16}\\.[0-9a-f]+; Path=/; HttpOnly"))
        .noneSatisfy(c -> assertThat(c).containsIgnoringCase("secure"));
  }
}
