package io.portico.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.portico.resource.ObjectKey;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

class ChangedStatusesTest {

  private static ObjectKey route(String name) {
    return new ObjectKey("HTTPRoute", "default", name);
  }

  private static StatusReport report(TreeMap<ObjectKey, HTTPRouteStatus> routes,
      TreeMap<ObjectKey, PolicyStatus> trafficPolicies) {
    return new StatusReport(new TreeMap<>(), new TreeMap<>(), routes, new TreeMap<>(),
        trafficPolicies);
  }

  @Test
  void namesNewReplacedAndGoneStatusesButNotTheSameObject() {
    HTTPRouteStatus kept = new HTTPRouteStatus();
    TreeMap<ObjectKey, HTTPRouteStatus> before = new TreeMap<>();
    before.put(route("a"), kept);
    before.put(route("b"), new HTTPRouteStatus());
    before.put(route("c"), new HTTPRouteStatus());
    TreeMap<ObjectKey, HTTPRouteStatus> after = new TreeMap<>();
    after.put(route("a"), kept);
    after.put(route("b"), new HTTPRouteStatus()); // equal, but a new object: looked at again
    after.put(route("d"), new HTTPRouteStatus());
    PolicyStatus policy = new PolicyStatus();
    ObjectKey policyKey = new ObjectKey("BackendTrafficPolicy", "default", "p");
    TreeMap<ObjectKey, PolicyStatus> policies = new TreeMap<>();
    policies.put(policyKey, policy);

    Map<ObjectKey, Object> changed = new LinkedHashMap<>();
    ChangedStatuses.between(report(before, policies), report(after, new TreeMap<>(policies)),
        changed);

    assertThat(changed.keySet()).containsExactly(route("b"), route("c"), route("d"));
    assertThat(changed.get(route("b"))).isSameAs(after.get(route("b")));
    assertThat(changed.get(route("c"))).isNull(); // gone
    assertThat(changed.get(route("d"))).isSameAs(after.get(route("d")));
  }

  @Test
  void everyEntryOfAnEmptyReportIsNew() {
    TreeMap<ObjectKey, HTTPRouteStatus> after = new TreeMap<>();
    after.put(route("a"), new HTTPRouteStatus());
    after.put(route("b"), new HTTPRouteStatus());
    Map<ObjectKey, Object> changed = new LinkedHashMap<>();

    ChangedStatuses.between(StatusReport.EMPTY, report(after, new TreeMap<>()), changed);

    assertThat(changed.keySet()).containsExactly(route("a"), route("b"));
  }

  @Test
  void statusOfFindsTheEntryOfTheKeysKind() {
    HTTPRouteStatus status = new HTTPRouteStatus();
    TreeMap<ObjectKey, HTTPRouteStatus> routes = new TreeMap<>();
    routes.put(route("a"), status);
    PolicyStatus policy = new PolicyStatus();
    TreeMap<ObjectKey, PolicyStatus> policies = new TreeMap<>();
    policies.put(new ObjectKey("BackendTrafficPolicy", "default", "a"), policy);
    StatusReport report = report(routes, policies);

    assertThat(ChangedStatuses.statusOf(report, route("a"))).isSameAs(status);
    assertThat(ChangedStatuses.statusOf(report,
        new ObjectKey("BackendTrafficPolicy", "default", "a"))).isSameAs(policy);
    assertThat(ChangedStatuses.statusOf(report, route("gone"))).isNull();
  }
}
