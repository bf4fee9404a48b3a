package io.portico.translate;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Host name rules of the Gateway API: validation, wildcard coverage and the intersection of a
 * listener's hostname with a route's hostnames.
 */
final class Hostnames {

  /** The pattern for "any host". */
  static final String ANY = "*";

  private static final Pattern VALID = Pattern.compile(
      "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  private Hostnames() {
  }

  /** Returns whether {@code hostname} is a valid Gateway API hostname (lower case, no IP, no port). */
  static boolean isValid(String hostname) {
    return hostname.length() <= 253 && VALID.matcher(hostname).matches()
        && !hostname.chars().allMatch(c -> c == '.' || Character.isDigit(c));
  }

  static boolean isWildcard(String hostname) {
    return hostname.startsWith("*.");
  }

  /**
   * Returns whether pattern {@code outer} covers every host {@code inner} covers. A wildcard
   * covers names with one or more extra labels: {@code *.example.com} covers
   * {@code a.b.example.com} and {@code *.b.example.com}, not {@code example.com}.
   */
  static boolean covers(String outer, String inner) {
    if (outer.equals(ANY) || outer.equals(inner)) {
      return true;
    }
    if (!isWildcard(outer) || inner.equals(ANY)) {
      return false;
    }
    String suffix = outer.substring(1);
    String innerName = isWildcard(inner) ? inner.substring(1) : inner;
    return innerName.length() > suffix.length() && innerName.endsWith(suffix)
        || isWildcard(inner) && innerName.equals(suffix);
  }

  /**
   * Returns the intersection of a listener hostname ({@code null} for any) and one route
   * hostname, or null when they have no host in common. The result is the more specific of the
   * two.
   */
  static String intersect(String listenerHostname, String routeHostname) {
    String listener = listenerHostname == null ? ANY : listenerHostname.toLowerCase(Locale.ROOT);
    String route = routeHostname.toLowerCase(Locale.ROOT);
    if (covers(listener, route)) {
      return route;
    }
    if (covers(route, listener)) {
      return listener;
    }
    return null;
  }

  /**
   * Ranks how specifically {@code pattern} names hosts: exact names first, then wildcards by
   * length, then {@code *}. A larger value is more specific.
   */
  static int specificity(String pattern) {
    if (pattern.equals(ANY)) {
      return 0;
    }
    if (isWildcard(pattern)) {
      return 1000 + pattern.length();
    }
    return 10_000 + pattern.length();
  }
}
