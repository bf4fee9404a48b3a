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
    // Replicas of any version must read each other's cookies: these values may never change.
    assertThat(EndpointAffinity.cookieValue(new Endpoint("10.0.0.1", 8080)))
        .isEqualTo("e6be330c3d44a2e2");
    assertThat(EndpointAffinity.cookieValue(new Endpoint("fd00::1", 443)))
        .isEqualTo("e97ee4216e923a1f");
    assertThat(EndpointAffinity.cookieValue(new Endpoint("web.example", 80)))
        .isEqualTo("e490e0412a1f6a9a");
    assertThat(EndpointAffinity.byCookie(FOUR, EndpointAffinity.cookieValue(FOUR.get(2))))
        .isEqualTo(FOUR.get(2));
    assertThat(EndpointAffinity.byCookie(FOUR.subList(0, 2),
        EndpointAffinity.cookieValue(FOUR.get(2)))).isNull();
    assertThat(EndpointAffinity.byCookie(FOUR, "garbage")).isNull();
  }

  @Test
  void consistentHashPicksAreFixedAcrossVersions() {
    // Replicas of different versions (a rolling upgrade) must send a key to the same pod.
    StringBuilder picks = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      picks.append(EndpointAffinity.byKey(FOUR, "client-" + i).host().substring(7));
    }
    assertThat(picks.toString()).isEqualTo("244234313224");
  }

  @Test
  void hashesWithoutBuildingStringsEqualTheHashOfTheStrings() {
    // endpointHash and byKey stream the bytes instead of concatenating; the result must be the
    // documented hash(host:port) and hash(key|host:port), also for IPv6 and non-ASCII text.
    List<Endpoint> endpoints = List.of(new Endpoint("10.0.0.1", 1), new Endpoint("10.0.0.1", 65535),
        new Endpoint("fd00::1", 443), new Endpoint("bücher.example", 8080),
        new Endpoint("web.example", 10));
    for (Endpoint endpoint : endpoints) {
      assertThat(EndpointAffinity.endpointHash(endpoint))
          .isEqualTo(EndpointAffinity.hash(endpoint.toString()));
    }
    for (String key : List.of("", "client-1", "ключ", "x".repeat(9000), "a|b")) {
      Endpoint expected = null;
      long best = 0;
      for (Endpoint endpoint : endpoints) {
        long score = EndpointAffinity.hash(key + "|" + endpoint);
        if (expected == null || Long.compareUnsigned(score, best) > 0) {
          expected = endpoint;
          best = score;
        }
      }
      assertThat(EndpointAffinity.byKey(endpoints, key)).as("key %.20s", key).isEqualTo(expected);
    }
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
