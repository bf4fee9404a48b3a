package io.portico.translate;

import io.portico.ir.BackendResilience;
import io.portico.ir.HealthCheck;
import io.portico.ir.LoadBalancing;
import io.portico.ir.TrafficPolicy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.portico.translate.PolicyFields.map;
import static io.portico.translate.PolicyFields.string;

/**
 * What of a BackendTrafficPolicy applies to a TLSRoute, TCPRoute or UDPRoute, whose traffic is a
 * connection (or a UDP session) rather than requests. As Envoy Gateway applies a policy to its
 * TCP and UDP routes:
 *
 * <ul>
 *   <li>TLS and TCP: {@code loadBalancer} ({@code RoundRobin}, {@code Random},
 *       {@code LeastRequest}: fewest open connections, {@code ConsistentHash} of type
 *       {@code SourceIP}), {@code sessionAffinity} of type {@code SourceIP},
 *       {@code healthCheck} (active probes, and passive outlier detection counting failed
 *       connects), {@code circuitBreaker.maxConnections}, {@code timeout.tcp.connectTimeout};
 *   <li>UDP: {@code loadBalancer} and {@code sessionAffinity} as above (per client session).
 * </ul>
 *
 * <p>Everything else (retries, HTTP timeouts, request limits, cookie or header hashing, slow
 * start...) has no meaning for a stream: it is left out of the route's settings and named in the
 * policy's status ({@link #of}), never dropped silently.
 */
final class StreamPolicyScope {

  /** Top-level spec fields that are not settings. */
  private static final Set<String> TARGETING = Set.of("targetRef", "targetRefs",
      "targetSelectors");

  private StreamPolicyScope() {
  }

  /**
   * What of a policy's spec a route kind takes.
   *
   * @param inapplicable the fields set that do not apply, each as its path, with the value
   *     where the value decides ({@code spec.loadBalancer.consistentHash.type: Header})
   * @param appliesAnything whether some field set does apply
   */
  record Scope(List<String> inapplicable, boolean appliesAnything) {
  }

  /** Returns what of {@code spec} applies to a route of {@code kind}. */
  static Scope of(Map<String, Object> spec, String kind) {
    boolean udp = "UDPRoute".equals(kind);
    List<String> fields = new ArrayList<>();
    boolean applies = false;
    for (String key : spec.keySet()) {
      if (TARGETING.contains(key) || spec.get(key) == null) {
        continue;
      }
      Map<String, Object> section = map(spec.get(key));
      switch (key) {
        case "loadBalancer" -> applies |= loadBalancer(section, fields);
        case "sessionAffinity" -> {
          String type = string(section.get("type"));
          if ("SourceIP".equals(type)) {
            applies = true;
          } else {
            fields.add("spec.sessionAffinity.type: " + type);
          }
        }
        case "healthCheck" -> {
          if (udp) {
            fields.add("spec.healthCheck");
          } else {
            applies = true;
          }
        }
        case "circuitBreaker" -> {
          if (udp) {
            fields.add("spec.circuitBreaker");
            continue;
          }
          for (String field : section.keySet()) {
            if (field.equals("maxConnections")) {
              applies = true;
            } else {
              fields.add("spec.circuitBreaker." + field);
            }
          }
        }
        case "timeout" -> {
          for (String field : section.keySet()) {
            if (udp || !field.equals("tcp")) {
              fields.add("spec.timeout." + field);
              continue;
            }
            for (String tcp : map(section.get(field)).keySet()) {
              if (tcp.equals("connectTimeout")) {
                applies = true;
              } else {
                fields.add("spec.timeout.tcp." + tcp);
              }
            }
          }
        }
        default -> fields.add("spec." + key);
      }
    }
    return new Scope(List.copyOf(fields), applies);
  }

  /** Adds what of {@code loadBalancer} does not apply; returns whether its type applies. */
  private static boolean loadBalancer(Map<String, Object> balancer, List<String> fields) {
    if (balancer.get("slowStart") != null) {
      fields.add("spec.loadBalancer.slowStart");
    }
    Map<String, Object> hash = map(balancer.get("consistentHash"));
    String hashType = string(hash.get("type"));
    if (hashType != null && !hashType.equals("SourceIP")) {
      fields.add("spec.loadBalancer.consistentHash.type: " + hashType);
      return false;
    }
    return true;
  }

  /**
   * Returns what of {@code policy} a route of {@code kind} uses: the settings
   * {@link #of} names are back at their defaults.
   */
  static TrafficPolicy narrow(TrafficPolicy policy, String kind) {
    boolean udp = "UDPRoute".equals(kind);
    LoadBalancing balancing = policy.loadBalancing();
    balancing = switch (balancing.type()) {
      case ROUND_ROBIN, RANDOM, LEAST_REQUEST, SOURCE_IP -> LoadBalancing.of(balancing.type());
      default -> LoadBalancing.ROUND_ROBIN;
    };
    BackendResilience resilience = policy.resilience();
    BackendResilience.Timeouts timeouts = resilience.timeouts() == null
        || resilience.timeouts().connectMillis() == 0 || udp ? null
        : new BackendResilience.Timeouts(resilience.timeouts().connectMillis(), 0);
    BackendResilience.CircuitBreaker breaker = resilience.circuitBreaker() == null || udp ? null
        : new BackendResilience.CircuitBreaker(BackendResilience.CircuitBreaker.DEFAULT_LIMIT,
            BackendResilience.CircuitBreaker.DEFAULT_LIMIT,
            BackendResilience.CircuitBreaker.DEFAULT_LIMIT,
            resilience.circuitBreaker().maxConnections());
    return new TrafficPolicy(policy.policy(), balancing,
        udp ? HealthCheck.NONE : policy.healthCheck(),
        new BackendResilience(null, timeouts, breaker, null));
  }
}
