package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Objects;

/**
 * Holds the backends of one route rule, between which traffic is split by weight.
 *
 * @param name deterministic name of the rule, e.g. {@code httproute/default/web/rule/0}
 * @param backends the rule's backendRefs in order; may be empty
 * @param totalWeight the sum of the weights; 0 means the rule has nowhere to send traffic and
 *     answers 500 (Gateway API: a rule with no backendRefs, or only weight-0 ones)
 * @param timeouts the rule's time limits
 * @param retry how the rule retries failed backend requests
 * @param traffic what the BackendTrafficPolicy attached to the rule sets (load balancing,
 *     health checks, resilience); {@link TrafficPolicy#DEFAULT} when none is
 * @param sessionPersistence the rule's Gateway API {@code sessionPersistence} (GEP-1619), or
 *     null when it has none. A request carrying a valid session goes to its endpoint whatever
 *     {@code traffic} says; {@code traffic}'s load balancing picks for new sessions
 */
public record BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = NoTimeouts.class)
    RouteTimeouts timeouts,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = NoRetry.class)
    RouteRetry retry,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = DefaultTraffic.class)
    TrafficPolicy traffic,
    @JsonInclude(JsonInclude.Include.NON_NULL) SessionPersistence sessionPersistence,
    @JsonIgnore UpstreamPlan plan) {

  /** Leaves rules without a BackendTrafficPolicy out of printed tables. */
  static final class DefaultTraffic {
    @Override
    public boolean equals(Object other) {
      return other == null || TrafficPolicy.DEFAULT.equals(other);
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  /** Leaves rules without retries out of printed tables. */
  static final class NoRetry {
    @Override
    public boolean equals(Object other) {
      return other == null || RouteRetry.NONE.equals(other);
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  /** Leaves rules without time limits out of printed tables. */
  static final class NoTimeouts {
    @Override
    public boolean equals(Object other) {
      return other == null || RouteTimeouts.NONE.equals(other);
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }

  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
      RouteTimeouts timeouts, RouteRetry retry, TrafficPolicy traffic) {
    this(name, backends, totalWeight, timeouts, retry, traffic, null);
  }

  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight) {
    this(name, backends, totalWeight, RouteTimeouts.NONE, RouteRetry.NONE, TrafficPolicy.DEFAULT);
  }

  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
      RouteTimeouts timeouts, RouteRetry retry) {
    this(name, backends, totalWeight, timeouts, retry, TrafficPolicy.DEFAULT);
  }

  public BackendGroup {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(traffic, "traffic");
    backends = List.copyOf(backends);
    int sum = 0;
    for (WeightedBackend backend : backends) {
      sum += backend.weight();
    }
    if (sum != totalWeight) {
      throw new IllegalArgumentException("totalWeight: " + totalWeight + " (expected: " + sum + ")");
    }
    plan = UpstreamPlan.compile(timeouts, retry, traffic);
  }
  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
      RouteTimeouts timeouts, RouteRetry retry, TrafficPolicy traffic,
      SessionPersistence sessionPersistence) {
    this(name, backends, totalWeight, timeouts, retry, traffic, sessionPersistence, null);
  }


  public static BackendGroup of(String name, List<WeightedBackend> backends) {
    return new BackendGroup(name, backends,
        backends.stream().mapToInt(WeightedBackend::weight).sum());
  }

  /** Returns this group with {@code timeouts}. */
  public BackendGroup withTimeouts(RouteTimeouts timeouts) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, traffic,
        sessionPersistence);
  }

  /** Returns this group with {@code retry}. */
  public BackendGroup withRetry(RouteRetry retry) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, traffic,
        sessionPersistence);
  }

  /** Returns this group with {@code traffic}. */
  public BackendGroup withTraffic(TrafficPolicy traffic) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, traffic,
        sessionPersistence);
  }

  /** Returns this group with {@code sessionPersistence} (null for none). */
  public BackendGroup withSessionPersistence(SessionPersistence sessionPersistence) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, traffic,
        sessionPersistence);
  }

  /** Returns how an endpoint is picked inside the chosen backend (shorthand). */
  public LoadBalancing loadBalancing() {
    return traffic.loadBalancing();
  }
}
