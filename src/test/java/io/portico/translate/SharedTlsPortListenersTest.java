package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.resource.ObjectKey;
import io.portico.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Listeners sharing a port (GatewaySpec.listeners): HTTPS and TLS are compatible protocols and
 * may share a port with distinct hostnames; the same hostname is HostnameConflict, HTTP with
 * either ProtocolConflict. One row per outcome.
 */
class SharedTlsPortListenersTest {

  @TempDir
  static Path directory;

  private static final String CERT = TestCertificates.selfSigned("web.example.com")
      .secretYaml("default", "cert") + "---\n";

  private static final String HTTPS = "{name: https, protocol: HTTPS, port: 443, hostname: %s,"
      + " tls: {certificateRefs: [{name: cert}]}}";
  private static final String PASSTHROUGH = "{name: tls, protocol: TLS, port: 443, hostname: %s,"
      + " tls: {mode: Passthrough}}";
  private static final String TERMINATE = "{name: tls, protocol: TLS, port: 443, hostname: %s,"
      + " tls: {mode: Terminate, certificateRefs: [{name: cert}]}}";

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("HTTPS and TLS Passthrough, distinct hostnames: both accepted",
            HTTPS.formatted("web.example.com"), PASSTHROUGH.formatted("db.example.com"),
            "False", "NoConflicts"),
        Arguments.of("HTTPS and TLS Terminate, distinct hostnames: both accepted",
            HTTPS.formatted("web.example.com"), TERMINATE.formatted("db.example.com"),
            "False", "NoConflicts"),
        Arguments.of("a wildcard and an exact name are distinct",
            HTTPS.formatted("\"*.example.com\""), PASSTHROUGH.formatted("db.example.com"),
            "False", "NoConflicts"),
        Arguments.of("HTTPS and TLS with the same hostname: HostnameConflict",
            HTTPS.formatted("web.example.com"), PASSTHROUGH.formatted("web.example.com"),
            "True", "HostnameConflict"),
        Arguments.of("HTTP and TLS: ProtocolConflict",
            "{name: https, protocol: HTTP, port: 443, hostname: web.example.com}",
            PASSTHROUGH.formatted("db.example.com"), "True", "ProtocolConflict"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void listenersOnOnePort(String description, String first, String second, String conflicted,
      String reason) throws IOException {
    Translation translation = translate(first, second);
    var listeners = translation.status().gateways()
        .get(new ObjectKey("Gateway", "default", "gw")).getListeners();
    for (ListenerStatus listener : listeners) {
      Condition condition = listener.getConditions().stream()
          .filter(c -> c.getType().equals("Conflicted")).findFirst().orElseThrow();
      assertThat(condition.getStatus()).as(listener.getName()).isEqualTo(conflicted);
      assertThat(condition.getReason()).as(listener.getName()).isEqualTo(reason);
    }
  }

  @Test
  void theTlsPortNamesTheHttpsListenersItHandsOver() throws IOException {
    Translation translation = translate(HTTPS.formatted("web.example.com"),
        PASSTHROUGH.formatted("db.example.com"));
    assertThat(translation.table().validate()).isEmpty();
    var https = translation.table().httpPort(443);
    assertThat(translation.table().sharedWithTls(https)).isTrue();
    StreamPort tls = translation.table().streamPorts().get(0);
    assertThat(tls.findListener("web.example.com")).extracting(StreamListener::https)
        .isEqualTo(true);
    assertThat(tls.findListener("db.example.com")).extracting(StreamListener::https)
        .isEqualTo(false);
    assertThat(tls.findListener("other.example.com")).isNull();
  }

  private static Translation translate(String first, String second) throws IOException {
    Path file = Files.createTempFile(directory, "case", ".yaml");
    Files.writeString(file, """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - %s
          - %s
        ---
        """.formatted(first, second) + CERT);
    return TranslatorGoldenTest.translate(file);
  }
}
