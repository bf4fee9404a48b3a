package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Gateway API HTTPPathMatch semantics: Exact, segment-wise PathPrefix, full-match regex. */
class PathMatchTest {

  @ParameterizedTest(name = "Exact {0} vs {1}: {2}")
  @CsvSource({
      "/abc,      /abc,      true",
      "/abc,      /abc/,     false",
      "/abc,      /abcd,     false",
      "/abc,      /abc/def,  false",
      "/abc,      /ab,       false",
      "/abc,      /ABC,      false",
      "/abc/,     /abc,      false",
      "/abc/,     /abc/,     true",
      "/,         /,         true",
      "/,         /a,        false",
  })
  void exactMatchesOnlyTheIdenticalPath(String value, String path, boolean expected) {
    assertThat(PathMatch.exact(value).matches(path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "PathPrefix {0} vs {1}: {2}")
  @CsvSource({
      "/abc,       /abc,          true",
      "/abc,       /abc/,         true",
      "/abc,       /abc/def,      true",
      "/abc,       /abc/def/ghi,  true",
      "/abc,       /abcd,         false",
      "/abc,       /abc-d,        false",
      "/abc,       /ab,           false",
      "/abc,       /,             false",
      "/abc,       /x/abc,        false",
      "/abc,       /ABC,          false",
      // a trailing slash in the prefix is ignored
      "/abc/,      /abc,          true",
      "/abc/,      /abc/,         true",
      "/abc/,      /abc/def,      true",
      "/abc/,      /abcd,         false",
      // multi-segment prefixes are compared segment-wise too
      "/abc/def,   /abc/def,      true",
      "/abc/def,   /abc/def/,     true",
      "/abc/def,   /abc/def/x,    true",
      "/abc/def,   /abc/defg,     false",
      "/abc/def,   /abc,          false",
      // '/' matches every path
      "/,          /,             true",
      "/,          /a,            true",
      "/,          /anything/at/all, true",
  })
  void pathPrefixMatchesWholeSegmentsOnly(String prefix, String path, boolean expected) {
    assertThat(PathMatch.prefix(prefix).matches(path)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "prefix({0}).value() = {1}")
  @CsvSource({
      "/abc,     /abc",
      "/abc/,    /abc",
      "/a/b/,    /a/b",
      "/,        /",
  })
  void prefixIsStoredWithoutTrailingSlashExceptForRoot(String written, String stored) {
    PathMatch match = PathMatch.prefix(written);
    assertThat(match.value()).isEqualTo(stored);
    assertThat(match.length()).isEqualTo(stored.length());
  }

  @Test
  void anyIsPathPrefixRoot() {
    assertThat(PathMatch.ANY).isEqualTo(PathMatch.prefix("/"));
    assertThat(PathMatch.ANY.matches("/whatever")).isTrue();
  }

  @ParameterizedTest(name = "RegularExpression {0} vs {1}: {2}")
  @CsvSource({
      "/api/v[0-9]+,     /api/v1,        true",
      "/api/v[0-9]+,     /api/v42,       true",
      "/api/v[0-9]+,     /api/v1/users,  false",
      "/api/v[0-9]+,     /x/api/v1,      false",
      "/api/v[0-9]+,     /api/vx,        false",
      "/api/.*,          /api/anything/below, true",
      "/api/.*,          /api,           false",
      "api,              /api,           false",
      "/a|/b,            /a,             true",
      "/a|/b,            /b,             true",
      "/a|/b,            /ab,            false",
      ".*\\.png,         /img/logo.png,  true",
      ".*\\.png,         /img/logo.png.html, false",
  })
  void regularExpressionMustMatchTheWholePath(String regex, String path, boolean expected) {
    assertThat(PathMatch.regularExpression(regex).matches(path)).isEqualTo(expected);
  }

  @Test
  void regularExpressionRequiresACompiledRegex() {
    assertThatThrownBy(() -> new PathMatch(PathMatch.Type.REGULAR_EXPRESSION, "/a", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "{0} with a regex is rejected")
  @CsvSource({"EXACT", "PREFIX"})
  void nonRegexTypesRejectACompiledRegex(PathMatch.Type type) {
    assertThatThrownBy(() -> new PathMatch(type, "/a", CompiledRegex.compile("/a")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void invalidRegularExpressionIsRejectedAtConstruction() {
    assertThatThrownBy(() -> PathMatch.regularExpression("/a("))
        .isInstanceOf(CompiledRegex.InvalidRegexException.class);
  }

  @ParameterizedTest(name = "{0} is refused: no linear-time engine can run it")
  @CsvSource(delimiter = '|', value = {
      "/(a)\\1",
      "/a(?=b)",
      "/a(?!b)",
      "/(?<=a)b",
      "/(?<!a)b",
      "/a++",
  })
  void backreferencesAndLookaroundAreRefused(String regex) {
    assertThatThrownBy(() -> PathMatch.regularExpression(regex))
        .isInstanceOf(CompiledRegex.InvalidRegexException.class)
        .hasMessageContaining("not valid RE2 syntax");
  }

  @Test
  void nestedQuantifiersAnswerCorrectlyOnAHostileInput() {
    // java.util.regex needs 2^n steps here; RE2 answers in one pass over the input.
    PathMatch redos = PathMatch.regularExpression("/redos/((a+)+)+b");
    assertThat(redos.matches("/redos/" + "a".repeat(5_000) + "!")).isFalse();
    assertThat(redos.matches("/redos/" + "a".repeat(5_000) + "b")).isTrue();
  }

  @Test
  void regexMatchesAreEqualWhenTheirSourceIs() {
    assertThat(PathMatch.regularExpression("/a.*")).isEqualTo(PathMatch.regularExpression("/a.*"));
    assertThat(PathMatch.regularExpression("/a.*")).isNotEqualTo(PathMatch.regularExpression("/b.*"));
  }
}
