package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * How one rule picks an endpoint inside the backend its weights chose, from an Envoy Gateway
 * BackendTrafficPolicy (seed shape {@code sessionAffinity}, or Envoy Gateway's
 * {@code loadBalancer}) on the rule's route.
 *
 * <p>The weighted pick of the backend always comes first; the policy only chooses among that
 * backend's endpoints. So an 80/20 split still holds for new sessions, and a cookie or hash
 * key keeps its endpoint as long as the weighted pick lands on the same backend (with one
 * backend per rule, always).
 *
 * @param type the algorithm
 * @param name the cookie name ({@link Type#COOKIE}) or header name ({@link Type#HEADER}); null
 *     otherwise
 * @param ttlSeconds the cookie's Max-Age; 0 means a session cookie (no Max-Age)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoadBalancing(Type type, String name, long ttlSeconds) {

  public enum Type {
    /** Cycles through the endpoints (the default). */
    ROUND_ROBIN,
    /** A uniformly random endpoint per request. */
    RANDOM,
    /** Cookie affinity: the cookie names the endpoint by a hash of its "host:port". */
    COOKIE,
    /** Consistent hash of the client's IP address. */
    SOURCE_IP,
    /** Consistent hash of one request header's value. */
    HEADER
  }

  public static final LoadBalancing ROUND_ROBIN = new LoadBalancing(Type.ROUND_ROBIN, null, 0);

  public LoadBalancing {
    Objects.requireNonNull(type, "type");
    if ((type == Type.COOKIE || type == Type.HEADER) && (name == null || name.isEmpty())) {
      throw new IllegalArgumentException(type + " needs a name");
    }
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("ttlSeconds: " + ttlSeconds);
    }
  }
}
