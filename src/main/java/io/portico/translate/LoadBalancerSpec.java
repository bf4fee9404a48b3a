package io.portico.translate;

import io.portico.ir.LoadBalancing;
import io.portico.resource.HttpSyntax;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.portico.translate.InvalidPolicy.invalid;
import static io.portico.translate.PolicyFields.list;
import static io.portico.translate.PolicyFields.map;
import static io.portico.translate.PolicyFields.string;

/**
 * Reads how a BackendTrafficPolicy picks endpoints, in both shapes Portico accepts:
 *
 * <ul>
 *   <li>the seed's {@code sessionAffinity: {type: Cookie, cookie: {name, ttl}}} or
 *       {@code {type: SourceIP}};
 *   <li>Envoy Gateway's {@code loadBalancer: {type: RoundRobin | LeastRequest | Random |
 *       ConsistentHash, slowStart: {window}, consistentHash: {type: SourceIP | Header {name} |
 *       Headers [{name}] | Cookie {name, ttl, attributes} | QueryParams [{name}]}}} (field names
 *       as in Envoy Gateway's {@code api/v1alpha1/loadbalancer_types.go}).
 * </ul>
 */
final class LoadBalancerSpec {

  /** Attributes Portico sets itself from other fields; a user value would contradict them. */
  private static final List<String> OWN_ATTRIBUTES = List.of("Max-Age", "Expires");
  private static final List<String> KNOWN_ATTRIBUTES =
      List.of("SameSite", "Domain", "Path", "Secure", "HttpOnly", "Partitioned", "Priority");

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
        return LoadBalancing.of(LoadBalancing.Type.SOURCE_IP);
      }
      throw invalid("spec.sessionAffinity.type: unknown type " + type + " (Cookie, SourceIP)");
    }
    if (balancer == null) {
      return LoadBalancing.ROUND_ROBIN;
    }
    Map<String, Object> b = map(balancer);
    String type = string(b.get("type"));
    if (type == null) {
      throw invalid("spec.loadBalancer.type is required");
    }
    if (!"ConsistentHash".equals(type) && b.get("consistentHash") != null) {
      throw invalid("spec.loadBalancer.consistentHash is only allowed with type ConsistentHash");
    }
    long slowStart = slowStart(b, type);
    switch (type) {
      case "RoundRobin":
        return slowStart == 0 ? LoadBalancing.ROUND_ROBIN : new LoadBalancing(
            LoadBalancing.Type.ROUND_ROBIN, null, 0, List.of(), Map.of(), slowStart);
      case "LeastRequest":
        return new LoadBalancing(LoadBalancing.Type.LEAST_REQUEST, null, 0, List.of(), Map.of(),
            slowStart);
      case "Random":
        return LoadBalancing.of(LoadBalancing.Type.RANDOM);
      case "ConsistentHash":
        return consistentHash(b.get("consistentHash"));
      default:
        throw invalid("spec.loadBalancer.type: unknown type " + type
            + " (RoundRobin, LeastRequest, Random, ConsistentHash)");
    }
  }

  /** Envoy Gateway allows slowStart with RoundRobin and LeastRequest only. */
  private static long slowStart(Map<String, Object> balancer, String type) throws InvalidPolicy {
    Object slowStart = balancer.get("slowStart");
    if (slowStart == null) {
      return 0;
    }
    if (!"RoundRobin".equals(type) && !"LeastRequest".equals(type)) {
      throw invalid("spec.loadBalancer.slowStart is only supported with type RoundRobin or"
          + " LeastRequest, not " + type);
    }
    Duration window = PolicyFields.duration(map(slowStart), "window",
        "spec.loadBalancer.slowStart.window");
    if (window == null) {
      throw invalid("spec.loadBalancer.slowStart.window is required");
    }
    if (window.isZero()) {
      throw invalid("spec.loadBalancer.slowStart.window: must be longer than 0s");
    }
    return window.toMillis();
  }

  private static LoadBalancing consistentHash(Object value) throws InvalidPolicy {
    if (value == null) {
      throw invalid("spec.loadBalancer.consistentHash is required with type ConsistentHash");
    }
    Map<String, Object> hash = map(value);
    String field = "spec.loadBalancer.consistentHash";
    String hashType = string(hash.get("type"));
    if (hashType == null) {
      throw invalid(field + ".type is required");
    }
    // Rendezvous hashing needs no table; the size is still checked as Envoy Gateway's CRD does.
    PolicyFields.integer(hash, "tableSize", field + ".tableSize", 2, 5000011, 65537);
    // Envoy Gateway's CEL rules: each section only with its own type.
    for (String[] section : new String[][] {{"header", "Header"}, {"headers", "Headers"},
        {"cookie", "Cookie"}, {"queryParams", "QueryParams"}}) {
      boolean present = hash.get(section[0]) != null;
      if (present != section[1].equals(hashType)) {
        throw invalid(present
            ? field + "." + section[0] + " is only allowed with type " + section[1]
            : field + "." + section[0] + " is required with type " + section[1]);
      }
    }
    switch (hashType) {
      case "SourceIP":
        return LoadBalancing.of(LoadBalancing.Type.SOURCE_IP);
      case "Cookie":
        return cookie(map(hash.get("cookie")), field + ".cookie");
      case "Header": {
        String name = string(map(hash.get("header")).get("name"));
        return keyed(LoadBalancing.Type.HEADER, List.of(headerName(name, field + ".header.name")));
      }
      case "Headers":
        return keyed(LoadBalancing.Type.HEADER, names(hash.get("headers"), field + ".headers",
            true));
      case "QueryParams":
        return keyed(LoadBalancing.Type.QUERY_PARAMS,
            names(hash.get("queryParams"), field + ".queryParams", false));
      default:
        throw invalid(field + ".type: unknown type " + hashType
            + " (SourceIP, Header, Headers, Cookie, QueryParams)");
    }
  }

  private static LoadBalancing keyed(LoadBalancing.Type type, List<String> keys) {
    return new LoadBalancing(type, null, 0, keys, Map.of(), 0);
  }

  /** Reads a list of {@code {name}}: header names in lower case, query parameters as written. */
  private static List<String> names(Object value, String field, boolean headers)
      throws InvalidPolicy {
    List<?> items = list(value);
    if (items.isEmpty()) {
      throw invalid(field + " must name at least one " + (headers ? "header" : "parameter"));
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      String name = string(map(items.get(i)).get("name"));
      String at = field + "[" + i + "].name";
      if (headers) {
        names.add(headerName(name, at));
      } else if (name == null || name.isEmpty()) {
        throw invalid(at + " is required");
      } else {
        names.add(name);
      }
    }
    return names;
  }

  private static String headerName(String name, String field) throws InvalidPolicy {
    if (name == null || name.isEmpty()) {
      throw invalid(field + " is required");
    }
    if (!HttpSyntax.HEADER_NAME.matcher(name).matches()) {
      throw invalid(field + ": " + name + " is not a valid header name");
    }
    return name.toLowerCase(Locale.ROOT);
  }

  private static LoadBalancing cookie(Map<String, Object> cookie, String field)
      throws InvalidPolicy {
    String name = string(cookie.get("name"));
    if (name == null || name.isEmpty()) {
      throw invalid(field + ".name is required");
    }
    if (!HttpSyntax.HEADER_NAME.matcher(name).matches()) {
      throw invalid(field + ".name: " + name + " is not a valid cookie name");
    }
    Duration ttl = PolicyFields.duration(cookie, "ttl", field + ".ttl");
    return new LoadBalancing(LoadBalancing.Type.COOKIE, name, ttl == null ? 0 : ttl.toSeconds(),
        List.of(), attributes(map(cookie.get("attributes")), field + ".attributes"), 0);
  }

  /**
   * Validates the extra cookie attributes: names are tokens (known ones get their canonical
   * case), values have no {@code ;} and no control characters, so nothing a user writes can end
   * the attribute early or start another header line. Max-Age and Expires come from the ttl.
   */
  static Map<String, String> attributes(Map<String, Object> attributes, String field)
      throws InvalidPolicy {
    Map<String, String> result = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : attributes.entrySet()) {
      String name = entry.getKey();
      String value = entry.getValue() == null ? "" : string(entry.getValue());
      String at = field + "." + name;
      if (name == null || !HttpSyntax.HEADER_NAME.matcher(name).matches()) {
        throw invalid(field + ": " + name + " is not a valid cookie attribute name");
      }
      for (String own : OWN_ATTRIBUTES) {
        if (own.equalsIgnoreCase(name)) {
          throw invalid(at + ": set by Portico from the ttl; not allowed here");
        }
      }
      for (String known : KNOWN_ATTRIBUTES) {
        if (known.equalsIgnoreCase(name)) {
          name = known;
        }
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == ';' || c < 0x20 || c == 0x7f || c > 0x7e) {
          throw invalid(at + ": value contains a character not allowed in a cookie attribute"
              + " (';', control or non-ASCII)");
        }
      }
      if (name.equals("SameSite") && !value.matches("(?i)Strict|Lax|None")) {
        throw invalid(at + ": " + value + " (expected: Strict, Lax or None)");
      }
      if (name.equals("Path") && !value.startsWith("/")) {
        throw invalid(at + ": " + value + " must start with '/'");
      }
      result.put(name, value);
    }
    return result;
  }
}
