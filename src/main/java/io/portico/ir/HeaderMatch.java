package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Locale;
import java.util.Objects;

/**
 * Matches one request header. Gateway API {@code HTTPHeaderMatch}: names are case-insensitive,
 * values are compared case-sensitively.
 *
 * @param name the header name, lower-cased
 * @param exact the value that must be present for an exact match, otherwise null
 * @param regex the expression the whole value must match, otherwise null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HeaderMatch(String name, String exact, CompiledRegex regex) {

  public HeaderMatch {
    name = Objects.requireNonNull(name, "name").toLowerCase(Locale.ROOT);
    if ((exact == null) == (regex == null)) {
      throw new IllegalArgumentException("exactly one of exact and regex must be set");
    }
  }

  public static HeaderMatch exact(String name, String value) {
    return new HeaderMatch(name, value, null);
  }

  public static HeaderMatch regularExpression(String name, String value) {
    return new HeaderMatch(name, null, CompiledRegex.compile(value));
  }

  /** Returns whether a header value (null when absent) satisfies this match. */
  public boolean matches(String value) {
    if (value == null) {
      return false;
    }
    return exact != null ? exact.equals(value) : regex.matchesFully(value);
  }
}
