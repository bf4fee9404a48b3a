package io.portico.proxy.lb;

import io.portico.ir.Endpoint;
import io.portico.ir.SessionPersistence;

/**
 * The value of a Gateway API session ({@code sessionPersistence}) cookie or header:
 * {@code <endpoint>.<issued>[.<touched>]}, the endpoint's 16 hex digit name (as
 * {@link EndpointAffinity#cookieValue}), the Unix second the session began and, when the rule
 * has an idle timeout, the Unix second of its latest answer, both in lower-case hex. It carries
 * its own times so that every replica enforces the timeouts without shared state.
 */
final class SessionValue {

  private SessionValue() {
  }

  /** Returns the value for a session on {@code endpoint} begun at {@code issued}. */
  static String format(SessionPersistence persistence, Endpoint endpoint, long issued, long now) {
    String value = EndpointAffinity.cookieValue(endpoint) + "." + Long.toHexString(issued);
    return persistence.idleTimeoutSeconds() > 0 ? value + "." + Long.toHexString(now) : value;
  }

  /**
   * Returns the endpoint name of {@code value} when it is well formed and neither its absolute
   * nor its idle timeout has passed at {@code now}; null otherwise.
   */
  static String validEndpoint(SessionPersistence persistence, String value, long now) {
    long issued = issued(value);
    if (issued < 0) {
      return null;
    }
    if (persistence.absoluteTimeoutSeconds() > 0
        && now - issued >= persistence.absoluteTimeoutSeconds()) {
      return null;
    }
    if (persistence.idleTimeoutSeconds() > 0) {
      int second = value.indexOf('.', 17);
      long touched = second < 0 ? issued : parse(value, second + 1, value.length());
      if (touched < 0 || now - touched >= persistence.idleTimeoutSeconds()) {
        return null;
      }
    }
    return value.substring(0, 16);
  }

  /** Returns the Unix second the session began, or -1 when {@code value} is malformed. */
  static long issued(String value) {
    if (value == null || value.length() < 18 || value.charAt(16) != '.') {
      return -1;
    }
    int second = value.indexOf('.', 17);
    return parse(value, 17, second < 0 ? value.length() : second);
  }

  private static long parse(String value, int from, int to) {
    if (to - from < 1 || to - from > 15) {
      return -1;
    }
    try {
      return Long.parseLong(value, from, to, 16);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
