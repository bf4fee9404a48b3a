package io.portico.ir;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Maps every backend port to its ready endpoints. It is published apart from the
 * {@link RoutingTable}, so a pod that starts or stops reaches the proxies without re-running
 * route translation.
 *
 * @param endpoints ready endpoints per backend port, each list sorted (host, port) so that every
 *     replica sees the same order; a key with an empty list exists but has nothing ready
 * @param h2cPorts the backend ports that speak HTTP/2 without TLS (Service port
 *     {@code appProtocol: kubernetes.io/h2c}); requests to them go upstream as HTTP/2 with
 *     prior knowledge, all others as HTTP/1.1
 * @param upstreamTls the backend ports a BackendTLSPolicy targets, with how to speak TLS to
 *     them. Kept here rather than in the RoutingTable: like h2cPorts it is a property of the
 *     Service port, resolved from Services, ConfigMaps and policies alone (no routes), so a
 *     renewed CA reaches the proxies without touching the routes
 */
public record EndpointsIndex(Map<BackendKey, List<Endpoint>> endpoints, Set<BackendKey> h2cPorts,
    Map<BackendKey, UpstreamTls> upstreamTls) {

  public static final EndpointsIndex EMPTY = new EndpointsIndex(Map.of(), Set.of(), Map.of());

  public EndpointsIndex {
    Objects.requireNonNull(endpoints, "endpoints");
    endpoints = Map.copyOf(endpoints);
    h2cPorts = Set.copyOf(h2cPorts);
    upstreamTls = Map.copyOf(upstreamTls);
  }

  public EndpointsIndex(Map<BackendKey, List<Endpoint>> endpoints) {
    this(endpoints, Set.of(), Map.of());
  }

  /** Returns how to speak TLS to {@code key}, or null for cleartext. */
  public UpstreamTls tls(BackendKey key) {
    return upstreamTls.get(key);
  }

  /** Returns whether requests to {@code key} go upstream as cleartext HTTP/2. */
  public boolean h2c(BackendKey key) {
    return h2cPorts.contains(key);
  }

  /** Returns the ready endpoints of {@code key}, empty when it has none or is unknown. */
  public List<Endpoint> get(BackendKey key) {
    List<Endpoint> list = endpoints.get(key);
    return list == null ? List.of() : list;
  }
}
