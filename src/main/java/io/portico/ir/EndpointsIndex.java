package io.portico.ir;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps every backend port to its ready endpoints. It is published apart from the
 * {@link RoutingTable}, so a pod that starts or stops reaches the proxies without re-running
 * route translation.
 *
 * @param endpoints ready endpoints per backend port, each list sorted (host, port) so that every
 *     replica sees the same order; a key with an empty list exists but has nothing ready
 */
public record EndpointsIndex(Map<BackendKey, List<Endpoint>> endpoints) {

  public static final EndpointsIndex EMPTY = new EndpointsIndex(Map.of());

  public EndpointsIndex {
    Objects.requireNonNull(endpoints, "endpoints");
    endpoints = Map.copyOf(endpoints);
  }

  /** Returns the ready endpoints of {@code key}, empty when it has none or is unknown. */
  public List<Endpoint> get(BackendKey key) {
    List<Endpoint> list = endpoints.get(key);
    return list == null ? List.of() : list;
  }
}
