package io.portico.proxy;

import io.portico.ir.BackendResilience.Retry;
import io.portico.ir.BackendResilience.Trigger;
import io.portico.ir.RouteRetry;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.StreamResetException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RetryRulesTest {

  private static Retry policy(Trigger... triggers) {
    return new Retry(2, Set.of(triggers), Set.of(503), 0, 25, 250);
  }

  @Test
  void backoffIsFullyJitteredExponentialAndCapped() {
    Retry retry = policy(Trigger.FIVE_XX);
    long[] max = new long[6];
    for (int i = 0; i < 2_000; i++) {
      for (int n = 1; n <= 5; n++) {
        long wait = RetryRules.backoffMillis(null, retry, n);
        assertThat(wait).isBetween(0L, 249L);
        max[n] = Math.max(max[n], wait);
      }
    }
    // (2^n - 1) * 25 ms: below 25, 75, 175, then the 250 ms cap.
    assertThat(max[1]).isBetween(15L, 24L);
    assertThat(max[2]).isBetween(60L, 74L);
    assertThat(max[3]).isBetween(150L, 174L);
    assertThat(max[4]).isBetween(220L, 249L);
    assertThat(RetryRules.backoffMillis(new RouteRetry(Set.of(500), 2, 40), null, 3))
        .as("the rule's fixed backoff").isEqualTo(40);
  }

  @Test
  void connectFailuresAreRetriedForEveryMethodOtherFailuresOnlyForIdempotentOnes() {
    Retry retry = policy(Trigger.CONNECT_FAILURE, Trigger.RESET);
    Exception refused = new ConnectException("refused");
    assertThat(RetryRules.retriesFailure(null, retry, HttpMethod.POST,
        UpstreamFailure.CONNECT_REFUSED, refused)).isTrue();
    assertThat(RetryRules.retriesFailure(null, retry, HttpMethod.POST,
        UpstreamFailure.RESET, new RuntimeException())).isFalse();
    assertThat(RetryRules.retriesFailure(null, retry, HttpMethod.GET,
        UpstreamFailure.RESET, new RuntimeException())).isTrue();
    assertThat(RetryRules.retriesFailure(null, policy(Trigger.CONNECT_FAILURE), HttpMethod.GET,
        UpstreamFailure.RESPONSE_TIMEOUT, new RuntimeException())).isFalse();
    assertThat(RetryRules.retriesFailure(null, policy(Trigger.REFUSED_STREAM), HttpMethod.POST,
        UpstreamFailure.RESET, new StreamResetException(7))).as("REFUSED_STREAM").isTrue();
    assertThat(RetryRules.retriesFailure(null, retry, HttpMethod.GET,
        UpstreamFailure.CLIENT_GONE, new RuntimeException())).isFalse();
  }

  @Test
  void resetAloneAlsoRetriesAFailedConnectionAsEnvoysDoes() {
    assertThat(RetryRules.retriesFailure(null, policy(Trigger.RESET), HttpMethod.GET,
        UpstreamFailure.CONNECT_REFUSED, new ConnectException("refused"))).isTrue();
    assertThat(RetryRules.retriesFailure(null, policy(Trigger.RETRIABLE_STATUS_CODES),
        HttpMethod.GET, UpstreamFailure.CONNECT_REFUSED, new ConnectException("refused")))
        .isFalse();
  }
}
