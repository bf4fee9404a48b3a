package io.portico.provider;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class CompactSerializationTest {

  private static final String ROUTE = """
      {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
       "metadata": {"name": "%s", "namespace": "team-a", "labels": {"app": "web"}},
       "spec": {"parentRefs": [{"name": "edge"}], "hostnames": ["%s.example.com"],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                           "backendRefs": [{"name": "web", "port": 80}]}]}}
      """;

  private final KubernetesSerialization compact = CompactSerialization.create();
  private final KubernetesSerialization plain = new KubernetesSerialization();

  private HTTPRoute read(KubernetesSerialization serialization, String name) {
    return serialization.unmarshal(ROUTE.formatted(name, name), HTTPRoute.class);
  }

  @Test
  void repeatedStringsAreOneInstance() {
    HTTPRoute a = read(compact, "a");
    HTTPRoute b = read(compact, "b");
    assertThat(a.getMetadata().getNamespace()).isSameAs(b.getMetadata().getNamespace());
    assertThat(a.getSpec().getRules().get(0).getMatches().get(0).getPath().getType())
        .isSameAs(b.getSpec().getRules().get(0).getMatches().get(0).getPath().getType());
    HTTPRoute c = read(plain, "c");
    HTTPRoute d = read(plain, "d");
    assertThat(c.getMetadata().getNamespace()).isNotSameAs(d.getMetadata().getNamespace());
  }

  @Test
  void emptyExtraFieldsAreSharedAndKnownOnesKept() {
    HTTPRoute route = read(compact, "a");
    assertThat(route.getSpec().getAdditionalProperties()).isSameAs(CompactSerialization.NO_EXTRAS);
    assertThat(route.getMetadata().getAdditionalProperties())
        .isSameAs(CompactSerialization.NO_EXTRAS);
    HTTPRoute extra = compact.unmarshal(ROUTE.formatted("x", "x")
        .replace("\"hostnames\"", "\"futureField\": 3, \"hostnames\""), HTTPRoute.class);
    assertThat(extra.getSpec().getAdditionalProperties()).containsEntry("futureField", 3);
  }

  @Test
  void objectsReadCompactlyWriteTheSameJsonAndTakeAStatus() {
    HTTPRoute route = read(compact, "a");
    assertThat(compact.asJson(route)).isEqualTo(plain.asJson(read(plain, "a")));
    assertThat(route).isEqualTo(read(plain, "a"));
    HTTPRoute copy = compact.clone(route);
    copy.setStatus(new HTTPRouteStatus());
    assertThat(copy.getStatus()).isNotNull();
    // Lists read stay lists one can change (the status writer edits its copies' lists).
    copy.getSpec().getHostnames().add("more.example.com");
    copy.getSpec().getRules().removeIf(rule -> true);
    assertThat(copy.getSpec().getHostnames()).containsExactly("a.example.com", "more.example.com");
    assertThat(copy.getSpec().getRules()).isEmpty();
  }

  @Test
  void metadataWithoutLabelsOrAnnotationsSharesOneEmptyMap() {
    HTTPRoute labelled = read(compact, "a");
    assertThat(labelled.getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(labelled.getMetadata().getAnnotations())
        .isSameAs(CompactSerialization.NO_LABELS);
    HTTPRoute bare = compact.unmarshal(ROUTE.formatted("b", "b")
        .replace(", \"labels\": {\"app\": \"web\"}", ""), HTTPRoute.class);
    assertThat(bare.getMetadata().getLabels()).isSameAs(CompactSerialization.NO_LABELS);
    HTTPRoute plainBare = plain.unmarshal(ROUTE.formatted("b", "b")
        .replace(", \"labels\": {\"app\": \"web\"}", ""), HTTPRoute.class);
    assertThat(plainBare.getMetadata().getLabels()).isEmpty();
    assertThat(plainBare.getMetadata().getLabels()).isNotSameAs(CompactSerialization.NO_LABELS);
    assertThat(bare).isEqualTo(plainBare);
    assertThat(compact.asJson(bare)).isEqualTo(plain.asJson(plainBare));
    // The status writer's copies take a status as before.
    HTTPRoute copy = compact.clone(bare);
    copy.setStatus(new HTTPRouteStatus());
    assertThat(copy.getStatus()).isNotNull();
  }

  @Test
  void managedFieldsAreNeitherReadNorWritten() {
    String withManagedFields = ROUTE.formatted("m", "m").replace("\"labels\"", """
        "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update",
          "apiVersion": "gateway.networking.k8s.io/v1", "fieldsType": "FieldsV1",
          "fieldsV1": {"f:spec": {"f:hostnames": {}, "f:rules": {}}}}],
        "labels\"""");
    HTTPRoute plainRoute = plain.unmarshal(withManagedFields, HTTPRoute.class);
    assertThat(plainRoute.getMetadata().getManagedFields()).hasSize(1);

    HTTPRoute route = compact.unmarshal(withManagedFields, HTTPRoute.class);
    assertThat(route.getMetadata().getManagedFields()).isEmpty();
    assertThat(route.getMetadata().getLabels()).containsEntry("app", "web");
    assertThat(route.getSpec()).isEqualTo(plainRoute.getSpec());
    plainRoute.getMetadata().setManagedFields(java.util.List.of());
    assertThat(route).isEqualTo(plainRoute);
    assertThat(compact.asJson(route)).doesNotContain("managedFields");
  }

  @Test
  void kubectlsCopyOfTheAppliedObjectIsDroppedAndOtherAnnotationsKept() {
    String lastApplied = "\"kubectl.kubernetes.io/last-applied-configuration\": "
        + "\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\"Secret\\\"}\"";
    Secret secret = compact.unmarshal("""
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
         "metadata": {"name": "cert", "namespace": "team-a",
                      "annotations": {%s, "team": "edge"}},
         "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}}
        """.formatted(lastApplied), Secret.class);
    assertThat(secret.getMetadata().getAnnotations()).containsExactly(Map.entry("team", "edge"));
    assertThat(secret.getData()).containsEntry("tls.crt", "Y2VydA==");
    assertThat(plain.unmarshal(compact.asJson(secret), Secret.class)).isEqualTo(secret);

    // Only kubectl's annotation: the map left empty is the shared one.
    String onlyLastApplied = ROUTE.formatted("k", "k")
        .replace("\"labels\"", "\"annotations\": {" + lastApplied + "}, \"labels\"");
    assertThat(plain.unmarshal(onlyLastApplied, HTTPRoute.class).getMetadata().getAnnotations())
        .containsOnlyKeys(CompactSerialization.LAST_APPLIED_CONFIGURATION);
    assertThat(compact.unmarshal(onlyLastApplied, HTTPRoute.class).getMetadata()
        .getAnnotations()).isSameAs(CompactSerialization.NO_LABELS);

    // Generic objects (policies) read their metadata the same way.
    GenericKubernetesResource policy = compact.unmarshal("""
        {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "BackendTrafficPolicy",
         "metadata": {"name": "p", "namespace": "team-a",
                      "annotations": {%s, "team": "edge"}}}
        """.formatted(lastApplied), GenericKubernetesResource.class);
    assertThat(policy.getMetadata().getAnnotations()).containsOnlyKeys("team");
  }

  @Test
  void genericObjectsKeepAMapOfTheirOwn() {
    GenericKubernetesResource policy = compact.unmarshal("""
        {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "BackendTrafficPolicy",
         "metadata": {"name": "p", "namespace": "team-a"}}
        """, GenericKubernetesResource.class);
    policy.setAdditionalProperty("status", Map.of("ancestors", java.util.List.of()));
    assertThat(policy.getAdditionalProperties()).containsKey("status");
  }
}
