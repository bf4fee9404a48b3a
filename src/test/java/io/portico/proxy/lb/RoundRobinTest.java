package io.portico.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import io.portico.ir.Endpoint;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Round robin over the ready endpoints of one backend. */
class RoundRobinTest {

  private static List<Endpoint> endpoints(int count) {
    List<Endpoint> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      list.add(new Endpoint("10.0.0." + (i + 1), 8080));
    }
    return list;
  }

  @ParameterizedTest(name = "{0} endpoints")
  @ValueSource(ints = {1, 2, 3, 5})
  void cyclesThroughEndpointsInOrder(int count) {
    List<Endpoint> endpoints = endpoints(count);
    RoundRobin rr = new RoundRobin(endpoints);
    int start = endpoints.indexOf(rr.next());
    assertThat(start).isNotNegative();
    for (int i = 1; i < 3 * count; i++) {
      assertThat(rr.next()).isEqualTo(endpoints.get((start + i) % count));
    }
  }

  @Test
  void freshRoundRobinsStartAtEveryEndpoint() {
    // Each event loop, and each endpoints change, makes a new one: they must not all start on
    // the first pod. 200 instances over 3 endpoints: P(an endpoint never first) ~ 3 * (2/3)^200.
    List<Endpoint> endpoints = endpoints(3);
    java.util.Set<Endpoint> firsts = new java.util.HashSet<>();
    for (int i = 0; i < 200; i++) {
      firsts.add(new RoundRobin(endpoints).next());
    }
    assertThat(firsts).containsExactlyInAnyOrderElementsOf(endpoints);
  }

  @Test
  void emptyEndpointListYieldsNull() {
    RoundRobin rr = new RoundRobin(List.of());
    assertThat(rr.next()).isNull();
    assertThat(rr.nextExcept(new Endpoint("10.0.0.1", 8080))).isNull();
  }

  @Test
  void singleEndpointHasNoAlternative() {
    List<Endpoint> endpoints = endpoints(1);
    RoundRobin rr = new RoundRobin(endpoints);
    Endpoint only = rr.next();
    assertThat(rr.nextExcept(only)).isNull();
    assertThat(rr.next()).isEqualTo(only);
  }

  @ParameterizedTest(name = "{0} endpoints, {1} picks before, retry after endpoint {2}")
  @CsvSource({
      "2, 0, 0", "2, 0, 1", "2, 1, 0", "2, 1, 1",
      "3, 0, 0", "3, 1, 0", "3, 2, 0", "3, 0, 2", "3, 2, 2", "3, 1, 1",
      "5, 4, 4", "5, 4, 0", "5, 3, 4",
  })
  void nextExceptNeverReturnsTheTriedEndpoint(int count, int picksBefore, int tried) {
    List<Endpoint> endpoints = endpoints(count);
    RoundRobin rr = new RoundRobin(endpoints);
    for (int i = 0; i < picksBefore; i++) {
      rr.next();
    }
    Endpoint retry = rr.nextExcept(endpoints.get(tried));
    assertThat(retry).isNotNull().isNotEqualTo(endpoints.get(tried)).isIn(endpoints);
  }

  @Test
  void retryAfterAFailedPickGoesToTheNextEndpointAndRotationContinues() {
    List<Endpoint> endpoints = endpoints(3);
    RoundRobin rr = new RoundRobin(endpoints);
    Endpoint first = rr.next();
    int start = endpoints.indexOf(first);
    assertThat(rr.nextExcept(first)).isEqualTo(endpoints.get((start + 1) % 3));
    assertThat(rr.next()).isEqualTo(endpoints.get((start + 2) % 3));
    assertThat(rr.next()).isEqualTo(first);
  }
}
