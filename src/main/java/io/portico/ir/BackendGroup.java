package io.portico.ir;

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
 * @param loadBalancing how an endpoint is picked inside the chosen backend (round robin unless
 *     a BackendTrafficPolicy on the route says otherwise)
 */
public record BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = NoTimeouts.class)
    RouteTimeouts timeouts,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = NoRetry.class)
    RouteRetry retry,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = RoundRobinDefault.class)
    LoadBalancing loadBalancing) {

  /** Leaves rules with the default round robin out of printed tables. */
  static final class RoundRobinDefault {
    @Override
    public boolean equals(Object other) {
      return other == null || LoadBalancing.ROUND_ROBIN.equals(other);
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

  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight) {
    this(name, backends, totalWeight, RouteTimeouts.NONE, RouteRetry.NONE,
        LoadBalancing.ROUND_ROBIN);
  }

  public BackendGroup(String name, List<WeightedBackend> backends, int totalWeight,
      RouteTimeouts timeouts, RouteRetry retry) {
    this(name, backends, totalWeight, timeouts, retry, LoadBalancing.ROUND_ROBIN);
  }

  public BackendGroup {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(timeouts, "timeouts");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(loadBalancing, "loadBalancing");
    backends = List.copyOf(backends);
    int sum = 0;
    for (WeightedBackend backend : backends) {
      sum += backend.weight();
    }
    if (sum != totalWeight) {
      throw new IllegalArgumentException("totalWeight: " + totalWeight + " (expected: " + sum + ")");
    }
  }

  public static BackendGroup of(String name, List<WeightedBackend> backends) {
    return new BackendGroup(name, backends,
        backends.stream().mapToInt(WeightedBackend::weight).sum());
  }

  /** Returns this group with {@code timeouts}. */
  public BackendGroup withTimeouts(RouteTimeouts timeouts) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, loadBalancing);
  }

  /** Returns this group with {@code retry}. */
  public BackendGroup withRetry(RouteRetry retry) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, loadBalancing);
  }

  /** Returns this group with {@code loadBalancing}. */
  public BackendGroup withLoadBalancing(LoadBalancing loadBalancing) {
    return new BackendGroup(name, backends, totalWeight, timeouts, retry, loadBalancing);
  }
}
