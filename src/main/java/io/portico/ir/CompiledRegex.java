package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Holds a regular expression compiled once at translation time. Two instances are equal when
 * their source text is, so that an unchanged table compares equal and is not re-published.
 */
public final class CompiledRegex {

  private final String source;
  private final Pattern pattern;

  private CompiledRegex(String source) {
    this.source = source;
    this.pattern = Pattern.compile(source);
  }

  /**
   * Compiles {@code source}.
   *
   * @throws java.util.regex.PatternSyntaxException when it is not a valid Java regular expression
   */
  public static CompiledRegex compile(String source) {
    return new CompiledRegex(Objects.requireNonNull(source, "source"));
  }

  /** Returns whether the whole of {@code input} matches (Envoy's full-match semantics). */
  public boolean matchesFully(CharSequence input) {
    return pattern.matcher(input).matches();
  }

  @JsonValue
  public String source() {
    return source;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CompiledRegex other && other.source.equals(source);
  }

  @Override
  public int hashCode() {
    return source.hashCode();
  }

  @Override
  public String toString() {
    return source;
  }
}
