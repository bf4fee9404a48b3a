package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Gateway API HTTPHeaderMatch: case-insensitive names, case-sensitive values, full-match regex. */
class HeaderMatchTest {

  @ParameterizedTest(name = "{0} is stored as {1}")
  @CsvSource({
      "X-Env,        x-env",
      "x-env,        x-env",
      "CONTENT-TYPE, content-type",
  })
  void headerNameIsLowerCased(String written, String stored) {
    assertThat(HeaderMatch.exact(written, "v").name()).isEqualTo(stored);
    assertThat(HeaderMatch.regularExpression(written, "v").name()).isEqualTo(stored);
  }

  @ParameterizedTest(name = "exact {0} vs {1}: {2}")
  @CsvSource(nullValues = "null", value = {
      "canary,   canary,   true",
      "canary,   Canary,   false",
      "canary,   canary2,  false",
      "canary,   ' canary', false",
      "canary,   '',       false",
      "canary,   null,     false",
      "'',       '',       true",
  })
  void exactValueIsCaseSensitiveAndAbsentNeverMatches(String expected, String actual,
      boolean matches) {
    assertThat(HeaderMatch.exact("x-env", expected).matches(actual)).isEqualTo(matches);
  }

  @ParameterizedTest(name = "regex {0} vs {1}: {2}")
  @CsvSource(nullValues = "null", value = {
      "v[0-9]+,     v1,      true",
      "v[0-9]+,     v1-beta, false",
      "v[0-9]+,     xv1,     false",
      "v[0-9]+,     V1,      false",
      "v[0-9]+,     null,    false",
      ".*,          '',      true",
      ".*,          null,    false",
  })
  void regularExpressionMustMatchTheWholeValue(String regex, String actual, boolean matches) {
    assertThat(HeaderMatch.regularExpression("x-env", regex).matches(actual)).isEqualTo(matches);
  }

  @Test
  void exactlyOneOfExactAndRegexMustBeSet() {
    assertThatThrownBy(() -> new HeaderMatch("x", null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HeaderMatch("x", "v", CompiledRegex.compile("v")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void nameIsRequired() {
    assertThatThrownBy(() -> HeaderMatch.exact(null, "v")).isInstanceOf(NullPointerException.class);
  }
}
