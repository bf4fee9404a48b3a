package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * Matches one query parameter. Gateway API {@code HTTPQueryParamMatch}: names and values are
 * case-sensitive; when a parameter repeats, its first value is compared.
 *
 * @param name the parameter name
 * @param exact the value for an exact match, otherwise null
 * @param regex the expression the whole value must match, otherwise null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QueryParamMatch(String name, String exact, CompiledRegex regex) {

  public QueryParamMatch {
    Objects.requireNonNull(name, "name");
    if ((exact == null) == (regex == null)) {
      throw new IllegalArgumentException("exactly one of exact and regex must be set");
    }
  }

  public static QueryParamMatch exact(String name, String value) {
    return new QueryParamMatch(name, value, null);
  }

  public static QueryParamMatch regularExpression(String name, String value) {
    return new QueryParamMatch(name, null, CompiledRegex.compile(value));
  }

  /** Returns whether the parameter's value (null when absent) satisfies this match. */
  public boolean matches(String value) {
    if (value == null) {
      return false;
    }
    return exact != null ? exact.equals(value) : regex.matchesFully(value);
  }
}
