package io.portico.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import io.portico.translate.Translator;
import io.portico.translate.TranslatorOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the log says about a configuration's problems (ConfigVerticle logs each line once). */
class StatusLogTest {

  @Test
  void policiesPorticoDoesNotImplementAreLoggedOncePerPolicy() throws IOException {
    Path file = Path.of("src/test/resources/translate/unimplemented-policies.in.yaml");
    YamlResourceReader.ReadResult read =
        new YamlResourceReader().read(file.toString(), Files.readString(file));
    List<HasMetadata> objects = new ArrayList<>();
    read.objects().forEach(o -> objects.add(o.object()));
    List<String> lines = StatusLog.problems(new Translator(TranslatorOptions.DEFAULTS)
        .translate(ResourceSnapshot.of(objects)).status());

    assertThat(lines).filteredOn(l -> l.startsWith("SecurityPolicy/default/basic-auth: "))
        .singleElement().asString()
        .contains("Accepted=False Invalid: Portico does not implement SecurityPolicy yet");
    assertThat(lines).filteredOn(l -> l.startsWith("SecurityPolicy/default/nowhere: "))
        .singleElement().asString().contains("TargetNotFound");
    assertThat(lines).filteredOn(l -> l.startsWith("ClientTrafficPolicy/default/timeouts: "))
        .singleElement().asString().contains("Portico does not implement ClientTrafficPolicy yet");
  }

  @Test
  void backendTrafficPolicyFieldsPorticoDoesNotImplementAreLoggedOncePerPolicyGeneration()
      throws IOException {
    String yaml = """
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
          - {name: a, protocol: HTTP, port: 80}
          - {name: b, protocol: HTTP, port: 81}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: limits, namespace: default, generation: 4}
        spec:
          targetRefs:
          - {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}
          - {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}
          retry: {numRetries: 1}
          rateLimit: {type: Local}
        ---
        """;
    YamlResourceReader.ReadResult read = new YamlResourceReader().read("btp.yaml", yaml);
    List<HasMetadata> objects = new ArrayList<>();
    read.objects().forEach(o -> objects.add(o.object()));
    List<String> lines = StatusLog.problems(new Translator(TranslatorOptions.DEFAULTS)
        .translate(ResourceSnapshot.of(objects)).status());

    // Two ancestors (one per listener), one line.
    assertThat(lines).filteredOn(l -> l.startsWith("BackendTrafficPolicy/default/limits"))
        .singleElement().asString()
        .startsWith("BackendTrafficPolicy/default/limits (generation 4): Warning=True Unsupported:"
            + " Protection not enforced: spec.rateLimit (requests are not rate limited)")
        .contains("Portico does not implement spec.rateLimit");
  }
}
