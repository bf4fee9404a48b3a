package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Updating the last order gives the order a sort from scratch gives. */
class RouteOrderTest {

  @Test
  void updatedOrderIsTheSortedOrder() {
    Random random = new Random(3);
    RouteOrder order = new RouteOrder();
    List<HasMetadata> routes = new ArrayList<>();
    int next = 0;
    for (int step = 0; step < 500; step++) {
      int change = random.nextInt(4);
      if (change == 0 || routes.size() < 5) {
        routes.add(random.nextInt(routes.size() + 1), route("r" + next++, random));
      } else if (change == 1) {
        routes.remove(random.nextInt(routes.size()));
      } else if (change == 2) {
        int i = random.nextInt(routes.size());
        routes.set(i, route(routes.get(i).getMetadata().getName(), random)); // a new object
      } else {
        Collections.shuffle(routes, random); // the informers' order means nothing
      }
      List<HasMetadata> expected = new ArrayList<>(routes);
      SnapshotIndex.sortOldestFirst(expected);
      assertThat(order.sort(routes, false)).as("step " + step).containsExactlyElementsOf(expected);
    }
  }

  private static HTTPRoute route(String name, Random random) {
    HTTPRoute route = new HTTPRoute();
    route.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name)
        .withNamespace(random.nextBoolean() ? "a" : "b")
        .withCreationTimestamp("2026-01-0" + (1 + random.nextInt(3)) + "T00:00:0"
            + random.nextInt(3) + "Z").build());
    return route;
  }
}
