package io.portico.ir;

import java.util.Objects;

/**
 * How a redirect or a rewrite changes the request path. Gateway API {@code HTTPPathModifier}.
 *
 * @param type what {@code value} replaces
 * @param value for {@link Type#REPLACE_FULL_PATH} the new path as written; for
 *     {@link Type#REPLACE_PREFIX_MATCH} the replacement of the matched prefix without its
 *     trailing slash ("/" and "" both become ""), as the spec ignores that slash
 */
public record PathModifier(Type type, String value) {

  /** The Gateway API path modifier types. */
  public enum Type {
    /** {@code ReplaceFullPath}: the whole path is replaced; the query string stays. */
    REPLACE_FULL_PATH,
    /** {@code ReplacePrefixMatch}: the part matched by the rule's PathPrefix is replaced. */
    REPLACE_PREFIX_MATCH
  }

  public PathModifier {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if (type == Type.REPLACE_PREFIX_MATCH && value.endsWith("/")) {
      value = value.substring(0, value.length() - 1);
    }
  }

  public static PathModifier replaceFullPath(String path) {
    return new PathModifier(Type.REPLACE_FULL_PATH, path);
  }

  public static PathModifier replacePrefixMatch(String prefix) {
    return new PathModifier(Type.REPLACE_PREFIX_MATCH, prefix);
  }

  /**
   * Returns the modified path.
   *
   * <p>For a prefix replacement the spec's table holds: with prefix {@code /foo},
   * {@code /foo/bar} becomes {@code /xyz/bar} for replacement {@code /xyz} or {@code /xyz/} and
   * {@code /bar} for "" or "/"; {@code /foo} becomes {@code /xyz}, or {@code /} for "" or "/";
   * {@code /foo/} becomes {@code /xyz/}, or {@code /}. The matched prefix is a whole number of
   * path segments, so what follows it is empty or starts with "/".
   *
   * @param path the normalized request path (no query string) that {@code match} matched
   * @param match the path match of the route that was selected; for
   *     {@link Type#REPLACE_PREFIX_MATCH} a {@link PathMatch.Type#PREFIX} match (the translator
   *     refuses any other); the path is returned unchanged otherwise
   */
  public String apply(String path, PathMatch match) {
    if (type == Type.REPLACE_FULL_PATH) {
      return value;
    }
    if (match.type() != PathMatch.Type.PREFIX || !match.matches(path)) {
      return path;
    }
    String prefix = match.value();
    // A prefix of "/" matches every path; what it consumed is the empty first segment.
    String rest = prefix.length() == 1 ? path : path.substring(prefix.length());
    if (value.isEmpty()) {
      return rest.isEmpty() ? "/" : rest;
    }
    return rest.isEmpty() ? value : value.concat(rest);
  }
}
