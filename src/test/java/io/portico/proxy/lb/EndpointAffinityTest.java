package io.portico.proxy.lb;

import io.portico.ir.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EndpointAffinityTest {

  private static final List<Endpoint> FOUR = List.of(new Endpoint("10.0.0.1", 8080),
      new Endpoint("10.0.0.2", 8080), new Endpoint("10.0.0.3", 8080), new Endpoint("10.0.0.4", 8080));

  @Test
  void cookieValueIsFixedForever() {
    // Replicas of any version must read each other's cookies: this value may never change.
    assertThat(EndpointAffinity.cookieValue(new Endpoint("10.0.0.1", 8080)))
        .isEqualTo(EndpointAffinity.cookieValue(new Endpoint("10.0.0.1", 8080)))
        .matches("[0-9a-f]{16}");
    assertThat(EndpointAffinity.byCookie(FOUR, EndpointAffinity.cookieValue(FOUR.get(2))))
        .isEqualTo(FOUR.get(2));
    assertThat(EndpointAffinity.byCookie(FOUR.subList(0, 2),
        EndpointAffinity.cookieValue(FOUR.get(2)))).isNull();
    assertThat(EndpointAffinity.byCookie(FOUR, "garbage")).isNull();
  }

  @Test
  void hashingIgnoresOrderAndMovesOnlyTheKeysOfARemovedEndpoint() {
    List<Endpoint> reversed = new ArrayList<>(FOUR);
    java.util.Collections.reverse(reversed);
    List<Endpoint> three = FOUR.subList(0, 3);
    int moved = 0;
    for (int i = 0; i < 1000; i++) {
      String key = "client-" + i;
      Endpoint before = EndpointAffinity.byKey(FOUR, key);
      assertThat(EndpointAffinity.byKey(reversed, key)).isEqualTo(before);
      Endpoint after = EndpointAffinity.byKey(three, key);
      if (!before.equals(FOUR.get(3))) {
        assertThat(after).isEqualTo(before);
      } else {
        moved++;
      }
    }
    assertThat(moved).isBetween(200, 300);
  }
}
