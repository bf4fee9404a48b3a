package io.portico.health;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendResilience;
import io.portico.ir.LoadBalancing;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.HealthCheck;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.Route;
import io.portico.ir.RouteMatch;
import io.portico.ir.RoutingTable;
import io.portico.ir.SourceRef;
import io.portico.ir.TrafficPolicy;
import io.portico.ir.VirtualHost;
import io.portico.ir.WeightedBackend;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The registry's verdicts with a fake clock: ejection, its cap and expiry, panic, churn. */
class HealthRegistryTest {

  private static final BackendKey WEB = BackendKey.service("default", "web", 80);
  private static final Endpoint A = new Endpoint("10.0.0.1", 8080);
  private static final Endpoint B = new Endpoint("10.0.0.2", 8080);
  private static final Endpoint C = new Endpoint("10.0.0.3", 8080);
  private static final Endpoint D = new Endpoint("10.0.0.4", 8080);
  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong clock = new AtomicLong();
  private final HealthRegistry registry = new HealthRegistry(clock::get, null);

  private static HealthCheck passive(int consecutive5xx, int maxEjectionPercent, int panic) {
    return new HealthCheck(null, new HealthCheck.Passive(false, 100, 5, 0, consecutive5xx,
        1000, maxEjectionPercent), panic);
  }

  private static EndpointsIndex index(Endpoint... endpoints) {
    return new EndpointsIndex(Map.of(WEB, List.of(endpoints)));
  }

  private void fail(Endpoint endpoint, int times) {
    for (int i = 0; i < times; i++) {
      registry.report(endpoint, Outcome.ERROR_5XX);
    }
  }

  @Test
  void healthyPoolsAreReturnedAsIsWithoutCopying() {
    EndpointsIndex index = index(A, B);
    registry.update(Map.of(WEB, passive(3, 50, 50)), index);
    assertThat(registry.candidates(WEB, index.get(WEB))).isSameAs(index.get(WEB));
  }

  @Test
  void consecutive5xxEjectForBaseTimeTimesEjectionsAndASuccessResetsTheCount() {
    EndpointsIndex index = index(A, B, C);
    registry.update(Map.of(WEB, passive(3, 50, 50)), index);
    fail(A, 2);
    registry.report(A, Outcome.SUCCESS);
    fail(A, 2);
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(A, B, C);
    fail(A, 1);
    List<Endpoint> candidates = registry.candidates(WEB, index.get(WEB));
    assertThat(candidates).containsExactly(B, C);
    assertThat(registry.candidates(WEB, index.get(WEB))).as("computed once").isSameAs(candidates);

    clock.set(SECOND - 1);
    registry.sweep();
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(B, C);
    clock.set(SECOND);
    registry.sweep();
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(A, B, C);

    // Ejected again right away: twice the base time.
    fail(A, 3);
    clock.set(2 * SECOND + SECOND / 2);
    registry.sweep();
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(B, C);
    clock.set(3 * SECOND);
    registry.sweep();
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(A, B, C);
  }

  @Test
  void maxEjectionPercentCapsEjectionsButOneIsAlwaysAllowed() {
    EndpointsIndex index = index(A, B, C, D);
    registry.update(Map.of(WEB, passive(1, 50, 0)), index);
    fail(A, 1);
    fail(B, 1);
    fail(C, 1);
    fail(D, 1);
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(C, D);

    HealthRegistry strict = new HealthRegistry(clock::get, null);
    strict.update(Map.of(WEB, passive(1, 0, 0)), index);
    strict.report(A, Outcome.ERROR_5XX);
    strict.report(B, Outcome.ERROR_5XX);
    assertThat(strict.candidates(WEB, index.get(WEB))).containsExactly(B, C, D);
  }

  @Test
  void belowThePanicThresholdEveryEndpointIsUsed() {
    EndpointsIndex index = index(A, B, C, D);
    registry.update(Map.of(WEB, passive(1, 100, 50)), index);
    fail(A, 1);
    fail(B, 1);
    assertThat(registry.candidates(WEB, index.get(WEB))).as("50% healthy: no panic")
        .containsExactly(C, D);
    fail(C, 1);
    assertThat(registry.candidates(WEB, index.get(WEB))).as("25% healthy: panic")
        .isSameAs(index.get(WEB));
  }

  @Test
  void endpointsThatLeaveAreForgottenAndNewOnesStartHealthy() {
    registry.update(Map.of(WEB, passive(1, 100, 0)), index(A, B));
    fail(A, 1);
    EndpointsIndex without = index(B, C);
    registry.update(Map.of(WEB, passive(1, 100, 0)), without);
    assertThat(registry.candidates(WEB, without.get(WEB))).isSameAs(without.get(WEB));
    EndpointsIndex back = index(A, B, C);
    registry.update(Map.of(WEB, passive(1, 100, 0)), back);
    assertThat(registry.candidates(WEB, back.get(WEB))).containsExactly(A, B, C);
  }

  @Test
  void localOriginFailuresCountAsGatewayErrorsUnlessSplit() {
    EndpointsIndex index = index(A, B);
    HealthCheck unsplit = new HealthCheck(null,
        new HealthCheck.Passive(false, 100, 5, 2, 0, 1000, 100), 0);
    registry.update(Map.of(WEB, unsplit), index);
    registry.report(A, Outcome.LOCAL_ORIGIN_FAILURE);
    registry.report(A, Outcome.GATEWAY_ERROR);
    assertThat(registry.candidates(WEB, index.get(WEB))).containsExactly(B);

    HealthRegistry split = new HealthRegistry(clock::get, null);
    split.update(Map.of(WEB, new HealthCheck(null,
        new HealthCheck.Passive(true, 100, 2, 5, 5, 1000, 100), 0)), index);
    split.report(A, Outcome.LOCAL_ORIGIN_FAILURE);
    split.report(A, Outcome.ERROR_5XX);
    split.report(A, Outcome.LOCAL_ORIGIN_FAILURE);
    assertThat(split.candidates(WEB, index.get(WEB))).as("a response resets the local count")
        .containsExactly(A, B);
    split.report(A, Outcome.LOCAL_ORIGIN_FAILURE);
    assertThat(split.candidates(WEB, index.get(WEB))).containsExactly(B);
  }

  @Test
  void planTakesTheCheckOfTheRuleWhoseNameSortsFirst() {
    HealthCheck first = passive(1, 10, 50);
    HealthCheck second = passive(2, 10, 50);
    RoutingTable table = new RoutingTable(List.of(new HttpPort(80, List.of(new Listener(
        "listener", new SourceRef("Gateway", "default", "gw", "listener/http"), null,
        List.of(new VirtualHost("*", List.of(
            route("httproute/default/z/rule/0", first),
            route("httproute/default/a/rule/0", second),
            route("httproute/default/0/rule/0", HealthCheck.NONE)))))))));
    assertThat(HealthPlan.of(table)).containsExactly(Map.entry(WEB, second));
  }

  private static Route route(String rule, HealthCheck check) {
    BackendGroup group = BackendGroup.of(rule, List.of(WeightedBackend.of(rule + "/backend/0", 1,
        WEB))).withTraffic(new TrafficPolicy("default/p", LoadBalancing.ROUND_ROBIN, check,
            BackendResilience.NONE));
    return new Route(rule + "/match/0", new SourceRef("HTTPRoute", "default", "r", "rule/0"),
        RouteMatch.ANY, group);
  }
}
