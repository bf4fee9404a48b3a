package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * Matches the path of a request (without the query string). Gateway API {@code HTTPPathMatch}.
 *
 * @param type how {@code value} is compared
 * @param value for {@link Type#PREFIX} the prefix without its trailing slash ("/" stays "/");
 *     otherwise as written
 * @param regex the compiled expression for {@link Type#REGULAR_EXPRESSION}, otherwise null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PathMatch(Type type, String value, CompiledRegex regex) {

  /** The Gateway API path match types. */
  public enum Type { EXACT, PREFIX, REGULAR_EXPRESSION }

  /** Matches every path: the Gateway API default, {@code PathPrefix /}. */
  public static final PathMatch ANY = prefix("/");

  public PathMatch {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if ((type == Type.REGULAR_EXPRESSION) != (regex != null)) {
      throw new IllegalArgumentException("regex: must be set exactly for REGULAR_EXPRESSION");
    }
  }

  public static PathMatch exact(String value) {
    return new PathMatch(Type.EXACT, value, null);
  }

  /**
   * Returns a segment-wise prefix match: {@code /abc} matches {@code /abc}, {@code /abc/} and
   * {@code /abc/def} but not {@code /abcd}; a trailing slash in the prefix is ignored.
   */
  public static PathMatch prefix(String value) {
    String trimmed = value.length() > 1 && value.endsWith("/")
        ? value.substring(0, value.length() - 1) : value;
    return new PathMatch(Type.PREFIX, trimmed, null);
  }

  public static PathMatch regularExpression(String value) {
    return new PathMatch(Type.REGULAR_EXPRESSION, value, CompiledRegex.compile(value));
  }

  /** Returns whether {@code path} (no query string) matches. */
  public boolean matches(String path) {
    switch (type) {
      case EXACT:
        return path.equals(value);
      case PREFIX:
        if (value.equals("/")) {
          return true;
        }
        return path.startsWith(value)
            && (path.length() == value.length() || path.charAt(value.length()) == '/');
      default:
        return regex.matchesFully(path);
    }
  }

  /** Returns the number of characters that rank prefix and exact matches by length. */
  @JsonIgnore
  public int length() {
    return value.length();
  }
}
