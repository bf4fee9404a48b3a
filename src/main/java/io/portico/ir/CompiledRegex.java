package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonValue;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;

import java.util.Objects;

/**
 * Holds a regular expression compiled once at translation time with RE2/J, the one engine for
 * every regex Portico evaluates on a request (HTTPRoute path, header and query parameter
 * matches). RE2 matches in time linear in the input, whatever the pattern, so no client input
 * can hold an event loop (java.util.regex backtracks: {@code ((a+)+)+b} against 30 {@code a}s
 * takes seconds); it is also the syntax Envoy's {@code safe_regex} accepts, so a pattern means
 * the same in Portico as in Envoy Gateway. Backreferences and lookaround have no linear-time
 * implementation and are refused at compile time.
 *
 * <p>Two instances are equal when their source text is, so that an unchanged table compares
 * equal and is not re-published.
 */
public final class CompiledRegex {

  private final String source;
  private final Pattern pattern;

  private CompiledRegex(String source, Pattern pattern) {
    this.source = source;
    this.pattern = pattern;
  }

  /**
   * Compiles {@code source} as an RE2 expression.
   *
   * @throws InvalidRegexException when it is not valid RE2 syntax (including backreferences and
   *     lookaround, which RE2 does not support)
   */
  public static CompiledRegex compile(String source) {
    Objects.requireNonNull(source, "source");
    try {
      return new CompiledRegex(source, Pattern.compile(source));
    } catch (PatternSyntaxException e) {
      // RE2/J's description names the error, its pattern the offending part, e.g. "(?=".
      String where = e.getPattern() == null || e.getPattern().isEmpty()
          || e.getPattern().equals(source) ? "" : " `" + e.getPattern() + "`";
      throw new InvalidRegexException(source, e.getDescription() + where);
    }
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

  /** Thrown for a pattern RE2 cannot compile; {@link #description()} says why. */
  public static final class InvalidRegexException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String description;

    InvalidRegexException(String source, String description) {
      super("regular expression '" + source + "' is not valid RE2 syntax: " + description);
      this.description = description;
    }

    /** RE2's reason, e.g. "invalid or unsupported Perl syntax: `(?=`". */
    public String description() {
      return description;
    }
  }
}
