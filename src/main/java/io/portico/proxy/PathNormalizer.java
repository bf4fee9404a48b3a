package io.portico.proxy;

/**
 * Removes dot segments from request paths (RFC 3986 section 5.2.4) before matching and
 * forwarding, so {@code /public/../admin} cannot slip past a {@code /public} rule.
 */
final class PathNormalizer {

  private PathNormalizer() {
  }

  /**
   * Returns {@code path} without "." and ".." segments; the same instance when it has none.
   * Percent-encoded dots ({@code %2e}) count as dots, as in Envoy's normalisation, so
   * {@code /public/%2e%2e/admin} cannot reach {@code /admin} behind a {@code /public} rule.
   */
  static String normalize(String path) {
    if (path.indexOf('%') >= 0) {
      path = decodeDots(path);
    }
    if (path.indexOf("/.") < 0) {
      return path;
    }
    String[] segments = path.split("/", -1);
    StringBuilder out = new StringBuilder(path.length());
    java.util.ArrayDeque<String> stack = new java.util.ArrayDeque<>();
    for (int i = 1; i < segments.length; i++) {
      String segment = segments[i];
      boolean last = i == segments.length - 1;
      if (segment.equals(".")) {
        if (last) {
          stack.addLast("");
        }
      } else if (segment.equals("..")) {
        stack.pollLast();
        if (last) {
          stack.addLast("");
        }
      } else {
        stack.addLast(segment);
      }
    }
    for (String segment : stack) {
      out.append('/').append(segment);
    }
    return out.length() == 0 ? "/" : out.toString();
  }

  private static String decodeDots(String path) {
    if (path.indexOf("%2e") < 0 && path.indexOf("%2E") < 0) {
      return path;
    }
    return path.replace("%2e", ".").replace("%2E", ".");
  }
}
