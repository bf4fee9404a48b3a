package io.portico.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

class CachedCopiesTest {

  private static HTTPRoute route(String namespace, String name) {
    return new HTTPRouteBuilder().withNewMetadata().withNamespace(namespace).withName(name)
        .endMetadata().build();
  }

  @Test
  void findsEveryObjectOfASnapshotInKeyOrder() {
    List<HTTPRoute> routes = IntStream.range(0, 50)
        .mapToObj(i -> route(i < 25 ? "a" : "b", "route-" + (100 + i))).toList();
    CachedCopies copies = new CachedCopies(ResourceSnapshot.of(routes));

    for (HTTPRoute route : routes) {
      assertThat(copies.get(ObjectKey.of(route))).isSameAs(route);
    }
    assertThat(copies.get(new ObjectKey("HTTPRoute", "a", "route-999"))).isNull();
    assertThat(copies.get(new ObjectKey("Gateway", "a", "route-100"))).isNull();
  }

  @Test
  void findsObjectsOfASnapshotInAnyOrder() {
    List<HasMetadata> routes = List.of(route("z", "b"), route("a", "c"), route("m", "a"),
        route("a", "a"));
    CachedCopies copies = new CachedCopies(ResourceSnapshot.of(routes));

    for (HasMetadata route : routes) {
      assertThat(copies.get(ObjectKey.of(route))).isSameAs(route);
    }
  }
}
