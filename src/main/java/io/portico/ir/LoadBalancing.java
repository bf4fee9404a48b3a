package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How one rule picks an endpoint inside the backend its weights chose, from an Envoy Gateway
 * BackendTrafficPolicy (seed shape {@code sessionAffinity}, or Envoy Gateway's
 * {@code loadBalancer}, see {@code api/v1alpha1/loadbalancer_types.go}) on the rule's route.
 *
 * <p>The weighted pick of the backend always comes first; the policy only chooses among that
 * backend's endpoints. So an 80/20 split still holds for new sessions, and a cookie or hash
 * key keeps its endpoint as long as the weighted pick lands on the same backend (with one
 * backend per rule, always). An affinity cookie also keeps its backend (see the proxy's
 * {@code EndpointChooser}).
 *
 * @param type the algorithm
 * @param name the cookie name ({@link Type#COOKIE}); null otherwise
 * @param ttlSeconds the cookie's Max-Age ({@code consistentHash.cookie.ttl}); 0 means a session
 *     cookie (no Max-Age)
 * @param keys the request headers (lower case; {@code consistentHash.header.name} or
 *     {@code consistentHash.headers[].name}) for {@link Type#HEADER}, the query parameters
 *     ({@code consistentHash.queryParams[].name}, case as written) for
 *     {@link Type#QUERY_PARAMS}; their values joined in this order form the hash key. Empty
 *     otherwise
 * @param cookieAttributes extra attributes of the generated cookie
 *     ({@code consistentHash.cookie.attributes}), by canonical name (e.g. {@code SameSite},
 *     {@code Domain}); an empty value means a flag attribute. Validated by the translator: no
 *     {@code ;}, CR, LF or other control characters, so they cannot split the header
 * @param slowStartMillis Envoy Gateway {@code slowStart.window} in milliseconds
 *     ({@link Type#ROUND_ROBIN} and {@link Type#LEAST_REQUEST} only): an endpoint this process
 *     first saw less than a window ago gets a share that ramps linearly from 10% to 100% of a
 *     settled endpoint's; 0 means off
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record LoadBalancing(Type type, String name,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) long ttlSeconds, List<String> keys,
    Map<String, String> cookieAttributes,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) long slowStartMillis) {

  public enum Type {
    /** Cycles through the endpoints (the default). */
    ROUND_ROBIN,
    /** A uniformly random endpoint per request. */
    RANDOM,
    /**
     * Envoy's least request: of two endpoints drawn at random, the one with fewer requests in
     * flight (power of two choices).
     */
    LEAST_REQUEST,
    /** Cookie affinity: the cookie names the endpoint by a hash of its "host:port". */
    COOKIE,
    /** Consistent hash of the client's IP address. */
    SOURCE_IP,
    /** Consistent hash of one or more request headers' values. */
    HEADER,
    /** Consistent hash of one or more query parameters' values. */
    QUERY_PARAMS
  }

  public static final LoadBalancing ROUND_ROBIN = new LoadBalancing(Type.ROUND_ROBIN, null, 0);

  public LoadBalancing {
    Objects.requireNonNull(type, "type");
    keys = keys == null ? List.of() : List.copyOf(keys);
    cookieAttributes = cookieAttributes == null ? Map.of()
        : java.util.Collections.unmodifiableMap(new TreeMap<>(cookieAttributes));
    if (type == Type.COOKIE && (name == null || name.isEmpty())) {
      throw new IllegalArgumentException(type + " needs a name");
    }
    if ((type == Type.HEADER || type == Type.QUERY_PARAMS) && keys.isEmpty()) {
      throw new IllegalArgumentException(type + " needs keys");
    }
    if (ttlSeconds < 0 || slowStartMillis < 0) {
      throw new IllegalArgumentException("ttlSeconds: " + ttlSeconds + ", slowStartMillis: "
          + slowStartMillis + " (expected: >= 0)");
    }
    if (slowStartMillis > 0 && type != Type.ROUND_ROBIN && type != Type.LEAST_REQUEST) {
      throw new IllegalArgumentException("slow start with " + type);
    }
  }

  public LoadBalancing(Type type, String name, long ttlSeconds) {
    this(type, name, ttlSeconds, List.of(), Map.of(), 0);
  }

  /** Returns a plain algorithm without keys or slow start. */
  public static LoadBalancing of(Type type) {
    return new LoadBalancing(type, null, 0);
  }
}
