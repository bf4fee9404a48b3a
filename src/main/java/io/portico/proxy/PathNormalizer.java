package io.portico.proxy;


import java.util.ArrayDeque;

/**
 * Canonicalises request paths as Envoy Gateway's defaults do, before matching and forwarding,
 * so that a path means the same to Portico's rules as to the backend behind them:
 *
 * <ol>
 *   <li>a {@code #fragment} in the request target is refused (400: RFC 9112 has no fragment in
 *       a request target; Envoy rejects it too);</li>
 *   <li>{@code %2F} and {@code %5C} are decoded to {@code /} (Envoy's
 *       {@code path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT}, Envoy Gateway's
 *       default), and the client is redirected (307) to the canonical path;</li>
 *   <li>percent-encoded unreserved characters (RFC 3986 section 2.3: letters, digits,
 *       {@code -._~}) are decoded ({@code /%61pi} is {@code /api}), a backslash is a slash, and
 *       dot segments are removed after decoding (RFC 3986 section 5.2.4), as Envoy's
 *       {@code normalize_path};</li>
 *   <li>adjacent slashes are merged ({@code merge_slashes}), after the dot segments as in
 *       Envoy.</li>
 * </ol>
 *
 * <p>Other percent-encodings are kept as sent. The canonical path is what rules match and what
 * the backend receives; the query is left untouched.
 */
final class PathNormalizer {

  private PathNormalizer() {
  }

  /** What to do with a request, decided from its request target alone. */
  record Result(Outcome outcome, String path, String detail) {

    enum Outcome {
      /** Route {@link #path()} (canonical, query excluded). */
      SERVE,
      /** Answer 307 with {@link #path()} (canonical, query included) as Location. */
      REDIRECT,
      /** Answer 400; {@link #detail()} says why. */
      REJECT
    }

    static Result serve(String path) {
      return new Result(Outcome.SERVE, path, null);
    }
  }

  /**
   * Canonicalises the path of {@code requestTarget} (origin form {@code /p?q} or absolute form
   * {@code http://a/p?q}, as received). A target of another form (such as {@code *}) is returned
   * to be served as is: no rule matches it.
   */
  static Result canonicalize(String requestTarget) {
    if (requestTarget.indexOf('#') >= 0) {
      return new Result(Result.Outcome.REJECT, null, "a fragment (#) in the request target");
    }
    int start;
    if (requestTarget.startsWith("/")) {
      start = 0;
    } else {
      int scheme = requestTarget.indexOf("://");
      if (scheme < 0) {
        return Result.serve(requestTarget);
      }
      start = scheme + 3;
      while (start < requestTarget.length() && requestTarget.charAt(start) != '/'
          && requestTarget.charAt(start) != '?') {
        start++;
      }
    }
    int queryStart = requestTarget.indexOf('?', start);
    String raw = queryStart < 0
        ? requestTarget.substring(start) : requestTarget.substring(start, queryStart);
    if (raw.isEmpty()) {
      raw = "/";
    }
    boolean[] escapedSlash = new boolean[1];
    String path = normalize(raw, escapedSlash);
    if (escapedSlash[0]) {
      return new Result(Result.Outcome.REDIRECT,
          queryStart < 0 ? path : path + requestTarget.substring(queryStart), null);
    }
    return Result.serve(path);
  }

  /**
   * Returns {@code path} canonical (escaped slashes decoded too); the same instance when it
   * already is.
   */
  static String normalize(String path) {
    return normalize(path, new boolean[1]);
  }

  private static String normalize(String path, boolean[] escapedSlash) {
    if (path.indexOf('%') >= 0 || path.indexOf('\\') >= 0) {
      path = decode(path, escapedSlash);
    }
    if (path.contains("/.")) {
      path = removeDotSegments(path);
    }
    if (path.contains("//")) {
      path = mergeSlashes(path);
    }
    return path;
  }

  /**
   * Decodes unreserved characters and escaped slashes (recording that one was seen); a
   * backslash, literal or escaped, becomes a slash.
   */
  private static String decode(String path, boolean[] escapedSlash) {
    StringBuilder out = null;
    int n = path.length();
    for (int i = 0; i < n; i++) {
      char c = path.charAt(i);
      char replacement = 0;
      int consumed = 1;
      if (c == '\\') {
        replacement = '/';
      } else if (c == '%' && i + 2 < n) {
        int high = Character.digit(path.charAt(i + 1), 16);
        int low = Character.digit(path.charAt(i + 2), 16);
        if (high >= 0 && low >= 0) {
          char decoded = (char) (high * 16 + low);
          if (decoded == '/' || decoded == '\\') {
            replacement = '/';
            escapedSlash[0] = true;
            consumed = 3;
          } else if (isUnreserved(decoded)) {
            replacement = decoded;
            consumed = 3;
          }
        }
      }
      if (replacement == 0) {
        if (out != null) {
          out.append(c);
        }
        continue;
      }
      if (out == null) {
        out = new StringBuilder(n).append(path, 0, i);
      }
      out.append(replacement);
      i += consumed - 1;
    }
    return out == null ? path : out.toString();
  }

  private static boolean isUnreserved(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  /** RFC 3986 section 5.2.4 on an absolute path; the same instance when it has none. */
  private static String removeDotSegments(String path) {
    String[] segments = path.split("/", -1);
    ArrayDeque<String> stack = new ArrayDeque<>();
    boolean changed = false;
    for (int i = 1; i < segments.length; i++) {
      String segment = segments[i];
      boolean last = i == segments.length - 1;
      if (segment.equals(".") || segment.equals("..")) {
        changed = true;
        if (segment.equals("..")) {
          stack.pollLast();
        }
        if (last) {
          stack.addLast("");
        }
      } else {
        stack.addLast(segment);
      }
    }
    if (!changed) {
      return path;
    }
    StringBuilder out = new StringBuilder(path.length());
    for (String segment : stack) {
      out.append('/').append(segment);
    }
    return out.length() == 0 ? "/" : out.toString();
  }

  private static String mergeSlashes(String path) {
    StringBuilder out = new StringBuilder(path.length());
    char previous = 0;
    for (int i = 0, n = path.length(); i < n; i++) {
      char c = path.charAt(i);
      if (c != '/' || previous != '/') {
        out.append(c);
      }
      previous = c;
    }
    return out.toString();
  }
}
