package io.portico.proxy;

import io.portico.ir.BackendResilience.CircuitBreaker;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CircuitBreakersTest {

  private static final CircuitBreaker LIMITS = new CircuitBreaker(2, 2, 2, 2);

  @Test
  void countersOfRulesThatLeftTheTableArePrunedOnceIdle() {
    CircuitBreakers breakers = new CircuitBreakers();
    CircuitBreakers.Counters kept = breakers.counters("default/web/rule/0");
    CircuitBreakers.Counters busy = breakers.counters("default/old/rule/0");
    for (int i = 0; i < 1000; i++) {
      // Route churn: rules that come and go, each counted once.
      CircuitBreakers.Counters churn = breakers.counters("default/churn-" + i + "/rule/0");
      assertThat(churn.tryRequest(LIMITS)).isTrue();
      churn.releaseRequest();
    }
    assertThat(busy.tryRequest(LIMITS)).isTrue();
    assertThat(busy.tryConnection(LIMITS)).isTrue();
    assertThat(breakers.size()).isEqualTo(1002);

    breakers.retain(Set.of("default/web/rule/0"));
    System.out.println("circuit breakers: after 1000 churned rules and a table change, "
        + breakers.size() + " counters left");
    assertThat(breakers.size()).as("the table's rule and the one still in flight").isEqualTo(2);
    assertThat(breakers.counters("default/web/rule/0")).isSameAs(kept);
    assertThat(breakers.counters("default/old/rule/0")).isSameAs(busy);

    // Its request ended, but its connection is still open: kept.
    busy.releaseRequest();
    breakers.retain(Set.of("default/web/rule/0"));
    assertThat(breakers.size()).isEqualTo(2);
    busy.releaseConnection();
    breakers.retain(Set.of("default/web/rule/0"));
    assertThat(breakers.size()).isEqualTo(1);
  }

  @Test
  void maxConnectionsIsCountedForTheWholeRule() {
    CircuitBreakers.Counters counters = new CircuitBreakers().counters("rule");
    assertThat(counters.tryConnection(LIMITS)).isTrue();
    assertThat(counters.tryConnection(LIMITS)).isTrue();
    assertThat(counters.tryConnection(LIMITS)).isFalse();
    counters.addConnection(); // opened past the limit (Envoy's one connection per host)
    assertThat(counters.connections()).isEqualTo(3);
    counters.releaseConnection();
    assertThat(counters.tryConnection(LIMITS)).as("2 of 2 still open").isFalse();
    counters.releaseConnection();
    assertThat(counters.tryConnection(LIMITS)).isTrue();
    assertThat(counters.connections()).isEqualTo(2);
  }
}
