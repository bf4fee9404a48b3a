package io.portico.proxy;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendResilience;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.Route;
import io.portico.ir.RoutingTable;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.ir.VirtualHost;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Keeps, on a table change, the upstream clients and per-rule counts the new table uses: shuts
 * down the clients of connection pool settings, circuit-breaking rules and BackendTLSPolicy
 * settings no longer in it, and forgets the counts of rules that left. Confined to the event
 * loop.
 */
final class UpstreamRetention {

  private final UpstreamClients clients;
  private final UpstreamTlsClients tlsClients;
  private final CircuitBreakers breakers;
  private final RuleConnections ruleConnections;
  /** The connection pools the current table uses, for the TLS clients' retain. */
  private Set<ConnectionPool> pools = Set.of();
  /** The rules with a circuit breaker in the current table, for the TLS clients' retain. */
  private Set<String> limitedRules = Set.of();

  UpstreamRetention(UpstreamClients clients, UpstreamTlsClients tlsClients,
      CircuitBreakers breakers, RuleConnections ruleConnections) {
    this.clients = clients;
    this.tlsClients = tlsClients;
    this.breakers = breakers;
    this.ruleConnections = ruleConnections;
  }

  /** Shuts down the TLS clients of settings no longer in use. */
  void retainTls(Collection<UpstreamTls> current,
      Collection<TlsCertificate> clientCertificates) {
    tlsClients.retain(current, clientCertificates, pools, limitedRules);
  }

  /**
   * Shuts down the clients of connection pool settings {@code table} no longer uses, and
   * forgets the circuit breaker counts of rules that no longer have one and nothing in flight.
   */
  void retainPools(RoutingTable table) {
    // Only rules with a connection pool setting or a circuit breaker have clients or counts of
    // their own: the others are passed over without a set entry (at 10k routes a set of every
    // rule's name cost each verticle milliseconds per table change).
    Set<ConnectionPool> current = new HashSet<>();
    Set<UpstreamClients.Key> keys = new HashSet<>();
    Set<String> limited = new HashSet<>();
    for (HttpPort port : table.httpPorts()) {
      for (Listener listener : port.listeners()) {
        for (VirtualHost host : listener.virtualHosts()) {
          for (Route route : host.routes()) {
            BackendGroup group = route.backends();
            BackendResilience resilience = group.traffic().resilience();
            ConnectionPool pool = resilience.connectionPool();
            if (pool != null) {
              current.add(pool);
            }
            if (resilience.circuitBreaker() != null) {
              limited.add(group.name());
            }
            if (pool != null || resilience.circuitBreaker() != null) {
              keys.add(new UpstreamClients.Key(pool,
                  resilience.circuitBreaker() != null ? group.name() : null));
            }
          }
        }
      }
    }
    pools = current;
    limitedRules = limited;
    clients.retain(keys);
    // Connection and breaker counts exist only for rules with a circuit breaker.
    ruleConnections.retain(limited);
    breakers.retain(limited);
  }
}
