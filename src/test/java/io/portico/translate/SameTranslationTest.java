package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

/**
 * The endpoint fast path skips translation only when nothing but endpoints changed: a change to
 * any other kind, the stream route kinds included, must be translated.
 */
class SameTranslationTest {

  private static final String BASE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {ports: [{name: http, port: 80}]}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{name: http, port: 3000}]
      endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
      """;

  private static ResourceSnapshot snapshot(String yaml) {
    YamlResourceReader.ReadResult result = new YamlResourceReader().read("test.yaml", yaml);
    assertThat(result.problems()).isEmpty();
    List<HasMetadata> objects = new ArrayList<>();
    result.objects().forEach(o -> objects.add(o.object()));
    return ResourceSnapshot.of(objects);
  }

  @Test
  void anEndpointOnlyChangeIsTheSameTranslation() {
    ResourceSnapshot before = snapshot(BASE);
    ResourceSnapshot after = snapshot(BASE.replace("127.0.0.1", "127.0.0.2"));
    assertThat(Translator.sameTranslation(before, after)).isTrue();
  }

  @Test
  void aStatusWrittenBackIsTheSameTranslationButASpecChangeIsNot() {
    String route = BASE + """
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: default, resourceVersion: "1", generation: 1}
        spec:
          parentRefs: [{name: gw}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        """;
    ResourceSnapshot before = snapshot(route);
    ResourceSnapshot statusWritten = snapshot(route.replace("resourceVersion: \"1\"",
        "resourceVersion: \"2\"") + """
        status:
          parents:
          - parentRef: {name: gw}
            controllerName: gateway.envoyproxy.io/gatewayclass-controller
            conditions: [{type: Accepted, status: "True", reason: Accepted, message: ok}]
        """);
    assertThat(Translator.sameTranslation(before, statusWritten)).isTrue();

    ResourceSnapshot specChanged = snapshot(route.replace("generation: 1", "generation: 2")
        .replace("port: 80}]}]", "port: 81}]}]"));
    assertThat(Translator.sameTranslation(before, specChanged)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSRoute", "TCPRoute", "UDPRoute", "HTTPRoute"})
  void aRouteOfAnyKindIsTranslated(String kind) {
    String version = kind.equals("HTTPRoute") ? "v1" : "v1alpha2";
    ResourceSnapshot before = snapshot(BASE);
    ResourceSnapshot after = snapshot(BASE + """
        ---
        apiVersion: gateway.networking.k8s.io/%s
        kind: %s
        metadata: {name: added, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          rules: [{backendRefs: [{name: web, port: 80}]}]
        """.formatted(version, kind));
    assertThat(Translator.sameTranslation(before, after)).isFalse();
  }
}
