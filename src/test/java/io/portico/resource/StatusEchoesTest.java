package io.portico.resource;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class StatusEchoesTest {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private static final String ROUTE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: web, namespace: default, resourceVersion: "7", generation: 1,
                 labels: {team: a}}
      spec:
        parentRefs: [{name: edge}]
        hostnames: [a.example.com]
        rules:
        - backendRefs: [{name: web, port: 80}]
      """;

  private static <T> T read(String yaml, Class<T> type) {
    return SERIALIZATION.unmarshal(yaml, type);
  }

  @Test
  void aCopyWithAnotherStatusAndResourceVersionIsAnEcho() {
    HTTPRoute before = read(ROUTE, HTTPRoute.class);
    HTTPRoute after = read(ROUTE, HTTPRoute.class);
    RouteParentStatus parent = new RouteParentStatus();
    parent.setControllerName("example.com/controller");
    HTTPRouteStatus status = new HTTPRouteStatus();
    status.setParents(List.of(parent));
    after.setStatus(status);
    after.getMetadata().setResourceVersion("8");
    after.getMetadata().setManagedFields(List.of(new ManagedFieldsEntry()));
    assertThat(StatusEchoes.sameButStatus(before, after)).isTrue();
  }

  @Test
  void aChangedSpecLabelOrGenerationIsNot() {
    HTTPRoute before = read(ROUTE, HTTPRoute.class);
    HTTPRoute host = read(ROUTE, HTTPRoute.class);
    host.getSpec().setHostnames(List.of("b.example.com"));
    HTTPRoute label = read(ROUTE, HTTPRoute.class);
    label.getMetadata().setLabels(Map.of("team", "b"));
    HTTPRoute generation = read(ROUTE, HTTPRoute.class);
    generation.getMetadata().setGeneration(2L);
    assertThat(StatusEchoes.sameButStatus(before, host)).isFalse();
    assertThat(StatusEchoes.sameButStatus(before, label)).isFalse();
    assertThat(StatusEchoes.sameButStatus(before, generation)).isFalse();
  }

  @Test
  void genericObjectsAreComparedWithoutTheirStatusField() {
    String policy = """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: p, namespace: default, resourceVersion: "1"}
        spec: {targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]}
        """;
    GenericKubernetesResource before = read(policy, GenericKubernetesResource.class);
    GenericKubernetesResource echo = read(policy, GenericKubernetesResource.class);
    echo.getAdditionalProperties().put("status", Map.of("ancestors", List.of()));
    echo.getMetadata().setResourceVersion("2");
    GenericKubernetesResource changed = read(policy.replace("name: web", "name: api"),
        GenericKubernetesResource.class);
    assertThat(StatusEchoes.sameButStatus(before, echo)).isTrue();
    assertThat(StatusEchoes.sameButStatus(echo, before)).isTrue();
    assertThat(StatusEchoes.sameButStatus(before, changed)).isFalse();
  }

  @Test
  void otherKindsAndClassesAreComparedAsWholeObjects() {
    String yaml = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default, resourceVersion: "1"}
        spec: {ports: [{port: 80}]}
        """;
    Service before = read(yaml, Service.class);
    Service echo = read(yaml.replace("\"1\"", "\"2\""), Service.class);
    Service changed = read(yaml.replace("port: 80", "port: 81"), Service.class);
    assertThat(StatusEchoes.sameButStatus(before, echo)).isTrue();
    assertThat(StatusEchoes.sameButStatus(before, changed)).isFalse();
    HasMetadata route = read(ROUTE, HTTPRoute.class);
    assertThat(StatusEchoes.sameButStatus(before, route)).isFalse();
  }
}
