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

  private static final String GATEWAY_AND_POLICY = """
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
      metadata: {name: limits, namespace: default, generation: GENERATION}
      spec:
        targetRefs:
        - {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: a}
        - {group: gateway.networking.k8s.io, kind: Gateway, name: gw, sectionName: b}
        retry: {numRetries: 1}
        rateLimit: {type: Local}
      ---
      """;

  private static final String ROUTE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: web, namespace: default}
      spec: {parentRefs: [{name: gw}]}
      ---
      """;

  @Test
  void backendTrafficPolicyFieldsPorticoDoesNotImplementAreLoggedOncePerPolicy() {
    List<String> lines = policyLines(GATEWAY_AND_POLICY.replace("GENERATION", "4"));

    // Two ancestors (one per listener), one line.
    assertThat(lines).singleElement().asString()
        .startsWith("BackendTrafficPolicy/default/limits (generation 4): Warning=True Unsupported:"
            + " Protection not enforced: spec.rateLimit (requests are not rate limited)")
        .contains("Portico does not implement spec.rateLimit");
  }

  /**
   * ConfigVerticle logs a line only when the previous translation did not have it: the line
   * must stay the same when something else changes, and change with the policy's generation.
   */
  @Test
  void theUnsupportedFieldsLineChangesWithThePolicyGenerationOnly() {
    List<String> first = policyLines(GATEWAY_AND_POLICY.replace("GENERATION", "4"));
    List<String> otherChange = policyLines(GATEWAY_AND_POLICY.replace("GENERATION", "4") + ROUTE);
    List<String> edited = policyLines(GATEWAY_AND_POLICY.replace("GENERATION", "5"));

    assertThat(otherChange).isEqualTo(first);
    assertThat(edited).singleElement().asString().contains("(generation 5)");
  }

  private static List<String> policyLines(String yaml) {
    YamlResourceReader.ReadResult read = new YamlResourceReader().read("btp.yaml", yaml);
    List<HasMetadata> objects = new ArrayList<>();
    read.objects().forEach(o -> objects.add(o.object()));
    return StatusLog.problems(new Translator(TranslatorOptions.DEFAULTS)
        .translate(ResourceSnapshot.of(objects)).status()).stream()
        .filter(l -> l.startsWith("BackendTrafficPolicy/")).toList();
  }
}
