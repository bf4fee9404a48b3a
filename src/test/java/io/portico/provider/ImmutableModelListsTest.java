package io.portico.provider;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImmutableModelListsTest {

  private static final String ROUTE = """
      {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
       "metadata": {"name": "web", "namespace": "team-a", "finalizers": ["keep"]},
       "spec": {"parentRefs": [{"name": "edge"}], "hostnames": ["a.example.com", "b.example.com",
                "c.example.com"],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"},
                                        "headers": [{"name": "x-env", "value": "canary"}]}],
                           "backendRefs": [{"name": "web", "port": 80}]}]},
       "status": {"parents": [{"parentRef": {"name": "edge"}, "controllerName": "portico.io/c",
                               "conditions": [{"type": "Accepted", "status": "True",
                                               "reason": "Accepted", "message": "",
                                               "lastTransitionTime": "2026-01-01T00:00:00Z"}]}]}}
      """;

  private final KubernetesSerialization serialization = CompactSerialization.create();

  @Test
  void everyListUnderTheObjectBecomesImmutableWithTheSameElements() {
    HTTPRoute route = serialization.unmarshal(ROUTE, HTTPRoute.class);
    HTTPRoute before = serialization.clone(route);

    ImmutableModelLists.apply(route);

    assertThat(route).isEqualTo(before);
    assertThat(serialization.asJson(route)).isEqualTo(serialization.asJson(before));
    var rule = route.getSpec().getRules().get(0);
    List<List<?>> lists = List.of(route.getSpec().getHostnames(), route.getSpec().getParentRefs(),
        route.getSpec().getRules(), rule.getMatches(), rule.getMatches().get(0).getHeaders(),
        rule.getBackendRefs(), rule.getFilters(), rule.getBackendRefs().get(0).getFilters(),
        route.getMetadata().getFinalizers(), route.getMetadata().getOwnerReferences(),
        route.getStatus().getParents(), route.getStatus().getParents().get(0).getConditions());
    for (List<?> list : lists) {
      assertThat(list).isNotInstanceOf(ArrayList.class);
      assertThatThrownBy(() -> list.add(null))
          .isInstanceOf(UnsupportedOperationException.class);
    }
    // Lists fabric8 made empty (never in the JSON) all become the one shared empty list.
    assertThat(rule.getFilters()).isSameAs(List.of());
    assertThat(route.getMetadata().getOwnerReferences()).isSameAs(List.of());
    assertThat(route.getSpec().getHostnames())
        .containsExactly("a.example.com", "b.example.com", "c.example.com");
    // A second walk (an echo sharing this spec) writes nothing.
    List<?> hostnames = route.getSpec().getHostnames();
    ImmutableModelLists.apply(route);
    assertThat(route.getSpec().getHostnames()).isSameAs(hostnames);
  }

  @Test
  void aCloneOfACompactedObjectHasListsOneCanChange() {
    // The status writer merges into clones of the informer's copies.
    HTTPRoute route = serialization.unmarshal(ROUTE, HTTPRoute.class);
    ImmutableModelLists.apply(route);
    HTTPRoute clone = serialization.clone(route);
    clone.getStatus().getParents().get(0).getConditions().removeIf(c -> true);
    clone.getSpec().getHostnames().add("d.example.com");
    assertThat(clone.getSpec().getHostnames()).hasSize(4);
    assertThat(route.getStatus().getParents().get(0).getConditions()).hasSize(1);
  }

  @Test
  void aListWithANullKeepsItAndIsImmutableToo() {
    EndpointSlice slice = serialization.unmarshal("""
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "web-1", "namespace": "team-a"}, "addressType": "IPv4",
         "endpoints": [{"addresses": ["10.0.0.1"]}, null],
         "ports": [{"name": "http", "port": 8080}]}
        """, EndpointSlice.class);
    ImmutableModelLists.apply(slice);
    assertThat(slice.getEndpoints()).isNotInstanceOf(ArrayList.class).hasSize(2)
        .containsNull();
    assertThatThrownBy(() -> slice.getEndpoints().set(1, null))
        .isInstanceOf(UnsupportedOperationException.class);
    // Walked again (a copy sharing these parts), nothing is replaced.
    List<?> endpoints = slice.getEndpoints();
    ImmutableModelLists.apply(slice);
    assertThat(slice.getEndpoints()).isSameAs(endpoints);
    assertThat(slice.getEndpoints().get(0).getAddresses()).isNotInstanceOf(ArrayList.class)
        .containsExactly("10.0.0.1");
    assertThat(slice.getPorts()).isNotInstanceOf(ArrayList.class).hasSize(1);
  }

  @Test
  void genericObjectsAreLeftAsTheyAre() {
    GenericKubernetesResource policy = serialization.unmarshal("""
        {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "SecurityPolicy",
         "metadata": {"name": "p", "namespace": "team-a"},
         "spec": {"targetRefs": [{"kind": "HTTPRoute", "name": "web"}]}}
        """, GenericKubernetesResource.class);
    ImmutableModelLists.apply(policy);
    Object targets = ((java.util.Map<?, ?>) policy.getAdditionalProperties().get("spec"))
        .get("targetRefs");
    assertThat(targets).isInstanceOf(ArrayList.class);
    assertThat(policy.getMetadata().getFinalizers()).isInstanceOf(ArrayList.class);
  }

  @Test
  void nullsAndNonModelObjectsAreIgnored() {
    ImmutableModelLists.apply(null);
    List<String> plain = new ArrayList<>(Arrays.asList("a", "b"));
    ImmutableModelLists.apply(plain);
    plain.add("c");
    assertThat(plain).containsExactly("a", "b", "c");
  }
}
