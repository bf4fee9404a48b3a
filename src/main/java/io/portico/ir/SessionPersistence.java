package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * Gateway API HTTPRoute rule {@code sessionPersistence} (GEP-1619): once a request was answered
 * by an endpoint, later requests carrying the session go to the same endpoint.
 *
 * <p>The session value is {@code <endpoint>.<issued>[.<touched>]}: the endpoint's 16 hex digit
 * hash of {@code host:port} (the same one BackendTrafficPolicy cookie affinity uses, so every
 * Portico replica, and a restarted one, finds the endpoint), then the Unix second the session
 * began and, with an idle timeout, the Unix second of its last response, both in hex. A value
 * past its absolute or idle timeout, or naming an endpoint that is gone, starts a new session.
 * The value is not signed: like Envoy's stateful session cookie it steers traffic, it does not
 * authenticate.
 *
 * @param type where the session travels
 * @param name the cookie or header name ({@code sessionName}; when absent, a name derived from
 *     the rule, {@code portico-session-<8 hex of the rule name>}, so two rules never share one)
 * @param absoluteTimeoutSeconds how long a session lasts from its start
 *     ({@code absoluteTimeout}); 0 means unlimited
 * @param idleTimeoutSeconds how long a session lasts without a request ({@code idleTimeout});
 *     every answer refreshes it; 0 means unlimited
 * @param permanent {@code cookieConfig.lifetimeType: Permanent}: the cookie gets Max-Age (the
 *     absolute timeout, or what is left of it, capped by the idle timeout); Session (the
 *     default) gives a cookie without Max-Age
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SessionPersistence(Type type, String name,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) long absoluteTimeoutSeconds,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) long idleTimeoutSeconds,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean permanent) {

  public enum Type {
    /** The session travels in a cookie set by Portico. */
    COOKIE,
    /** The session travels in a response header that the client sends back. */
    HEADER
  }

  public SessionPersistence {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    if (absoluteTimeoutSeconds < 0 || idleTimeoutSeconds < 0) {
      throw new IllegalArgumentException("timeouts: " + absoluteTimeoutSeconds + ", "
          + idleTimeoutSeconds + " (expected: >= 0)");
    }
  }
}
