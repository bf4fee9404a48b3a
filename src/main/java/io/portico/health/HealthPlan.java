package io.portico.health;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.HealthCheck;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.Route;
import io.portico.ir.RoutingTable;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.ir.StreamRoute;
import io.portico.ir.VirtualHost;
import io.portico.ir.WeightedBackend;

import java.util.HashMap;
import java.util.Map;

/**
 * Derives which health check applies to each backend port from the routing table. Health is
 * per endpoint of a backend port, not per route, so when several rules reach the same port
 * with different checks one must win: the check of the rule whose name sorts first (rule names
 * are deterministic, e.g. {@code httproute/default/web/rule/0}), among the rules whose policy
 * enables checking. Rules without health checking never switch it off for the others.
 */
public final class HealthPlan {

  private HealthPlan() {
  }

  /** Returns the check of every backend port some rule health checks; others are absent. */
  public static Map<BackendKey, HealthCheck> of(RoutingTable table) {
    Map<BackendKey, HealthCheck> checks = new HashMap<>();
    Map<BackendKey, String> winners = new HashMap<>();
    for (HttpPort port : table.httpPorts()) {
      for (Listener listener : port.listeners()) {
        for (VirtualHost host : listener.virtualHosts()) {
          for (Route route : host.routes()) {
            add(route.backends(), checks, winners);
          }
        }
      }
    }
    // TLS and TCP routes too (a UDP route's policy never carries a check).
    for (StreamPort port : table.streamPorts()) {
      for (StreamListener listener : port.listeners()) {
        for (StreamRoute route : listener.routes()) {
          add(route.backends(), checks, winners);
        }
      }
    }
    return Map.copyOf(checks);
  }

  private static void add(BackendGroup group, Map<BackendKey, HealthCheck> checks,
      Map<BackendKey, String> winners) {
    HealthCheck check = group.traffic().healthCheck();
    if (!check.enabled()) {
      return;
    }
    for (WeightedBackend backend : group.backends()) {
      if (!backend.available()) {
        continue;
      }
      String winner = winners.get(backend.key());
      if (winner == null || group.name().compareTo(winner) < 0) {
        winners.put(backend.key(), group.name());
        checks.put(backend.key(), check);
      }
    }
  }
}
