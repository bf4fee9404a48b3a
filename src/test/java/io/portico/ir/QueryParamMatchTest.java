package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Gateway API HTTPQueryParamMatch: case-sensitive names and values, full-match regex. */
class QueryParamMatchTest {

  @ParameterizedTest(name = "{0} is kept as written")
  @CsvSource({"Version", "version", "API_KEY"})
  void parameterNameKeepsItsCase(String name) {
    assertThat(QueryParamMatch.exact(name, "v").name()).isEqualTo(name);
    assertThat(QueryParamMatch.exact("Version", "v"))
        .isNotEqualTo(QueryParamMatch.exact("version", "v"));
  }

  @ParameterizedTest(name = "exact {0} vs {1}: {2}")
  @CsvSource(nullValues = "null", value = {
      "beta,  beta,   true",
      "beta,  Beta,   false",
      "beta,  betas,  false",
      "beta,  '',     false",
      "beta,  null,   false",
      "'',    '',     true",
  })
  void exactValueIsCaseSensitiveAndAbsentNeverMatches(String expected, String actual,
      boolean matches) {
    assertThat(QueryParamMatch.exact("channel", expected).matches(actual)).isEqualTo(matches);
  }

  @ParameterizedTest(name = "regex {0} vs {1}: {2}")
  @CsvSource(nullValues = "null", value = {
      "[0-9]+,   123,    true",
      "[0-9]+,   123a,   false",
      "[0-9]+,   a123,   false",
      "[0-9]+,   '',     false",
      "[0-9]+,   null,   false",
  })
  void regularExpressionMustMatchTheWholeValue(String regex, String actual, boolean matches) {
    assertThat(QueryParamMatch.regularExpression("id", regex).matches(actual)).isEqualTo(matches);
  }

  @Test
  void exactlyOneOfExactAndRegexMustBeSet() {
    assertThatThrownBy(() -> new QueryParamMatch("x", null, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new QueryParamMatch("x", "v", CompiledRegex.compile("v")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
