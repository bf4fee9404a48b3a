package io.portico.proxy.lb;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Holds the selectors of one proxy verticle: a weighted picker per rule and a round robin per
 * backend port. Selectors are keyed by the immutable objects they were built over, so swapping
 * the table or the endpoints simply starts fresh ones. Confined to one event loop.
 */
public final class LoadBalancerState {

  private final Map<BackendGroup, WeightedRoundRobin> groups = new IdentityHashMap<>();
  private final Map<BackendKey, RoundRobin> endpoints = new HashMap<>();
  private final SlowStart slowStart = new SlowStart();

  /** Forgets the rule pickers; call when the routing table changes. */
  public void resetGroups() {
    groups.clear();
  }

  /** Uses a new endpoints index; call when endpoints change. */
  public void useEndpoints(EndpointsIndex index) {
    endpoints.clear();
    slowStart.observe(index, System.currentTimeMillis());
    java.util.Set<Endpoint> all = new java.util.HashSet<>();
    index.endpoints().values().forEach(all::addAll);
    InFlightRequests.retain(all);
  }

  /** Returns when this verticle first saw each endpoint. */
  SlowStart slowStart() {
    return slowStart;
  }

  public WeightedRoundRobin group(BackendGroup group) {
    WeightedRoundRobin picker = groups.get(group);
    if (picker == null) {
      picker = new WeightedRoundRobin(group);
      groups.put(group, picker);
    }
    return picker;
  }

  /**
   * Returns the round robin of {@code key} over {@code candidates} (its endpoints as health
   * checking filters them), starting a fresh one when the candidates changed.
   */
  public RoundRobin endpoints(BackendKey key, List<Endpoint> candidates) {
    RoundRobin picker = endpoints.get(key);
    if (picker == null || !picker.cycles(candidates)) {
      picker = new RoundRobin(candidates);
      endpoints.put(key, picker);
    }
    return picker;
  }
}
