package io.portico.translate;

import io.portico.ir.SessionPersistence;
import io.portico.resource.GoDuration;
import io.portico.resource.HttpSyntax;

import java.time.Duration;
import java.util.Locale;

/**
 * Compiles an HTTPRoute rule's {@code sessionPersistence} (Gateway API GEP-1619) into a
 * {@link SessionPersistence}; an invalid value makes the rule invalid with a message naming the
 * field (the route then reports it as HttpRoutePhase does for every invalid rule).
 */
final class SessionPersistenceCompiler {

  private SessionPersistenceCompiler() {
  }

  /**
   * Returns a rule's session persistence (HTTPRoute and GRPCRoute rules share the field), or
   * null when it has none.
   *
   * @param persistence the rule's {@code sessionPersistence}, or null
   * @param ruleName the rule's deterministic name; the default session name is derived from it
   */
  static SessionPersistence compile(int ruleIndex,
      io.fabric8.kubernetes.api.model.gatewayapi.v1.SessionPersistence persistence,
      String ruleName) throws RuleCompiler.InvalidRule {
    if (persistence == null) {
      return null;
    }
    String where = "rule " + ruleIndex + ": sessionPersistence.";
    String typeName = persistence.getType() == null ? "Cookie" : persistence.getType();
    SessionPersistence.Type type;
    switch (typeName) {
      case "Cookie":
        type = SessionPersistence.Type.COOKIE;
        break;
      case "Header":
        type = SessionPersistence.Type.HEADER;
        break;
      default:
        throw new RuleCompiler.InvalidRule(where + "type " + typeName
            + " is not supported (expected: Cookie or Header)");
    }
    String name = persistence.getSessionName();
    if (name == null || name.isEmpty()) {
      // Envoy Gateway generates a name too; this one is stable across replicas and restarts
      // and differs between rules, so two rules never read each other's sessions.
      name = "portico-session-" + String.format("%08x", ruleName.hashCode());
    } else if (name.length() > 128 || !HttpSyntax.HEADER_NAME.matcher(name).matches()) {
      throw new RuleCompiler.InvalidRule(where + "sessionName '" + name + "' is not a valid "
          + (type == SessionPersistence.Type.COOKIE ? "cookie" : "header") + " name");
    }
    if (type == SessionPersistence.Type.HEADER) {
      name = name.toLowerCase(Locale.ROOT);
    }
    long absolute = seconds(where + "absoluteTimeout", persistence.getAbsoluteTimeout());
    // The fabric8 model predates idleTimeout; it arrives as an additional property.
    Object idleValue = persistence.getAdditionalProperties().get("idleTimeout");
    long idle = seconds(where + "idleTimeout", idleValue == null ? null : idleValue.toString());
    boolean permanent = false;
    if (persistence.getCookieConfig() != null
        && persistence.getCookieConfig().getLifetimeType() != null) {
      String lifetime = persistence.getCookieConfig().getLifetimeType();
      if (lifetime.equals("Permanent")) {
        permanent = true;
      } else if (!lifetime.equals("Session")) {
        throw new RuleCompiler.InvalidRule(where + "cookieConfig.lifetimeType " + lifetime
            + " is not supported (expected: Permanent or Session)");
      }
    }
    if (permanent && absolute == 0) {
      throw new RuleCompiler.InvalidRule(where + "absoluteTimeout must be specified when"
          + " cookieConfig.lifetimeType is Permanent");
    }
    return new SessionPersistence(type, name, absolute, idle, permanent);
  }

  /** Returns the duration in whole seconds (rounded up), 0 when unset. */
  private static long seconds(String field, String value) throws RuleCompiler.InvalidRule {
    if (value == null || value.isEmpty()) {
      return 0;
    }
    Duration duration;
    try {
      duration = GoDuration.parse(value);
    } catch (IllegalArgumentException e) {
      throw new RuleCompiler.InvalidRule(field + " '" + value
          + "' is not a duration such as 30m, 1h or 10s");
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new RuleCompiler.InvalidRule(field + " '" + value + "' must be longer than 0s");
    }
    return (duration.toMillis() + 999) / 1000;
  }
}
