package io.portico.translate;

import io.portico.ir.LoadBalancing;

import java.time.Duration;
import java.util.Map;

import static io.portico.translate.InvalidPolicy.invalid;
import static io.portico.translate.PolicyFields.map;
import static io.portico.translate.PolicyFields.string;

/**
 * Reads how a BackendTrafficPolicy picks endpoints, in both shapes Portico accepts:
 *
 * <ul>
 *   <li>the seed's {@code sessionAffinity: {type: Cookie, cookie: {name, ttl}}} or
 *       {@code {type: SourceIP}};
 *   <li>Envoy Gateway's {@code loadBalancer: {type: RoundRobin | Random | ConsistentHash,
 *       consistentHash: {type: SourceIP | Cookie {name, ttl} | Header {name}}}}.
 * </ul>
 */
final class LoadBalancerSpec {

  private LoadBalancerSpec() {
  }

  /** Returns the policy's load balancing, or round robin when it sets none. */
  static LoadBalancing parse(Map<String, Object> spec) throws InvalidPolicy {
    Object affinity = spec.get("sessionAffinity");
    Object balancer = spec.get("loadBalancer");
    if (affinity != null && balancer != null) {
      throw invalid("set only one of spec.sessionAffinity and spec.loadBalancer");
    }
    if (affinity != null) {
      Map<String, Object> a = map(affinity);
      String type = string(a.get("type"));
      if ("Cookie".equals(type)) {
        return cookie(map(a.get("cookie")), "spec.sessionAffinity.cookie");
      }
      if ("SourceIP".equals(type)) {
        return new LoadBalancing(LoadBalancing.Type.SOURCE_IP, null, 0);
      }
      throw invalid("spec.sessionAffinity.type: unknown type " + type + " (Cookie, SourceIP)");
    }
    if (balancer == null) {
      return LoadBalancing.ROUND_ROBIN;
    }
    Map<String, Object> b = map(balancer);
    String type = string(b.get("type"));
    if ("RoundRobin".equals(type)) {
      return LoadBalancing.ROUND_ROBIN;
    }
    if ("Random".equals(type)) {
      return new LoadBalancing(LoadBalancing.Type.RANDOM, null, 0);
    }
    if (!"ConsistentHash".equals(type)) {
      throw invalid("spec.loadBalancer.type: unknown or unsupported type " + type
          + " (RoundRobin, Random, ConsistentHash)");
    }
    Map<String, Object> hash = map(b.get("consistentHash"));
    String hashType = string(hash.get("type"));
    if ("SourceIP".equals(hashType)) {
      return new LoadBalancing(LoadBalancing.Type.SOURCE_IP, null, 0);
    }
    if ("Cookie".equals(hashType)) {
      return cookie(map(hash.get("cookie")), "spec.loadBalancer.consistentHash.cookie");
    }
    if ("Header".equals(hashType)) {
      String name = string(map(hash.get("header")).get("name"));
      if (name == null || name.isEmpty()) {
        throw invalid("spec.loadBalancer.consistentHash.header.name is required");
      }
      return new LoadBalancing(LoadBalancing.Type.HEADER, name.toLowerCase(), 0);
    }
    throw invalid("spec.loadBalancer.consistentHash.type: unknown or unsupported type "
        + hashType + " (SourceIP, Cookie, Header)");
  }

  private static LoadBalancing cookie(Map<String, Object> cookie, String field)
      throws InvalidPolicy {
    String name = string(cookie.get("name"));
    if (name == null || name.isEmpty()) {
      throw invalid(field + ".name is required");
    }
    if (!name.matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+")) {
      throw invalid(field + ".name: " + name + " is not a valid cookie name");
    }
    Duration ttl = PolicyFields.duration(cookie, "ttl", field + ".ttl");
    return new LoadBalancing(LoadBalancing.Type.COOKIE, name, ttl == null ? 0 : ttl.toSeconds());
  }
}
