package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Gateway API hostname rules: validation, wildcard coverage, listener/route intersection. */
class HostnamesTest {

  private static String label(char c, int length) {
    return String.valueOf(c).repeat(length);
  }

  /** A valid name of exactly {@code length} characters: 63-character labels joined by dots. */
  private static String nameOfLength(int length) {
    StringBuilder name = new StringBuilder();
    while (name.length() < length) {
      if (name.length() > 0) {
        name.append('.');
      }
      int remaining = length - name.length();
      name.append(label('a', Math.min(63, remaining)));
    }
    return name.toString();
  }

  @ParameterizedTest(name = "{0} is valid")
  @ValueSource(strings = {
      "example.com",
      "foo.example.com",
      "*.example.com",
      "*.foo.example.com",
      "localhost",
      "a",
      "a-b.example.com",
      "a--b.example.com",
      "xn--bcher-kva.example",
      "1.example.com",
      "123abc",
      "9a.b8",
  })
  void acceptsLowerCaseDnsNamesAndLeadingWildcard(String hostname) {
    assertThat(Hostnames.isValid(hostname)).isTrue();
  }

  @ParameterizedTest(name = "\"{0}\" is invalid")
  @ValueSource(strings = {
      "",
      "*",
      "*.",
      "**.example.com",
      "*example.com",
      "foo.*.example.com",
      "foo.example.*",
      "Example.com",
      "FOO.EXAMPLE.COM",
      "-foo.example.com",
      "foo-.example.com",
      "foo..example.com",
      ".example.com",
      "example.com.",
      "foo_bar.example.com",
      "example.com:8080",
      "foo example.com",
      "1.2.3.4",
      "10.0.0.1",
      "::1",
      "[::1]",
  })
  void rejectsUpperCaseIpsPortsMisplacedWildcardsAndBadLabels(String hostname) {
    assertThat(Hostnames.isValid(hostname)).isFalse();
  }

  @ParameterizedTest(name = "length {0} -> valid={1}")
  @CsvSource({
      "1, true",
      "253, true",
      "254, false",
  })
  void acceptsAtMost253Characters(int length, boolean valid) {
    String name = nameOfLength(length);
    assertThat(name).hasSize(length);
    assertThat(Hostnames.isValid(name)).isEqualTo(valid);
  }

  @ParameterizedTest(name = "{0} covers {1}: {2}")
  @CsvSource({
      // the catch-all covers everything
      "'*',                  foo.example.com,     true",
      "'*',                  '*.example.com',     true",
      "'*',                  '*',                 true",
      // an exact name covers only itself
      "foo.example.com,      foo.example.com,     true",
      "foo.example.com,      bar.example.com,     false",
      "foo.example.com,      '*.example.com',     false",
      "foo.example.com,      '*',                 false",
      "foo.example.com,      a.foo.example.com,   false",
      // a wildcard covers one or more extra labels
      "'*.example.com',      foo.example.com,     true",
      "'*.example.com',      a.b.example.com,     true",
      "'*.example.com',      x.y.z.example.com,   true",
      "'*.example.com',      '*.example.com',     true",
      "'*.example.com',      '*.b.example.com',   true",
      // ... but never the bare suffix, a different domain, or a non-label boundary
      "'*.example.com',      example.com,         false",
      "'*.example.com',      fooexample.com,      false",
      "'*.example.com',      foo.example.org,     false",
      "'*.example.com',      '*.example.org',     false",
      "'*.example.com',      '*',                 false",
      // a narrower wildcard does not cover a broader one or its siblings
      "'*.b.example.com',    '*.example.com',     false",
      "'*.b.example.com',    a.example.com,       false",
      "'*.b.example.com',    b.example.com,       false",
      "'*.b.example.com',    a.b.example.com,     true",
  })
  void wildcardCoversOneOrMoreLabelsButNeverTheBareSuffix(String outer, String inner,
      boolean expected) {
    assertThat(Hostnames.covers(outer, inner)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "listener {0} + route {1} -> {2}")
  @CsvSource(nullValues = "null", value = {
      // listener without hostname: the route's hostname as written
      "null,                 foo.example.com,     foo.example.com",
      "null,                 '*.example.com',     '*.example.com'",
      // exact listener
      "foo.example.com,      foo.example.com,     foo.example.com",
      "foo.example.com,      bar.example.com,     null",
      "a.com,                b.com,               null",
      "foo.example.com,      '*.example.com',     foo.example.com",
      "a.b.example.com,      '*.example.com',     a.b.example.com",
      "example.com,          '*.example.com',     null",
      "foo.example.com,      '*.foo.example.com', null",
      "foo.example.com,      '*.example.org',     null",
      // wildcard listener
      "'*.example.com',      foo.example.com,     foo.example.com",
      "'*.example.com',      a.b.example.com,     a.b.example.com",
      "'*.example.com',      example.com,         null",
      "'*.example.com',      foo.example.org,     null",
      "'*.example.com',      '*.example.com',     '*.example.com'",
      "'*.example.com',      '*.foo.example.com', '*.foo.example.com'",
      "'*.foo.example.com',  '*.example.com',     '*.foo.example.com'",
      "'*.example.com',      '*.example.org',     null",
      "'*.a.example.com',    '*.b.example.com',   null",
  })
  void intersectionIsTheMoreSpecificOfListenerAndRouteHostname(String listener, String route,
      String expected) {
    assertThat(Hostnames.intersect(listener, route)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "listener {0} + route {1} -> {2}")
  @CsvSource(nullValues = "null", value = {
      "null,             Foo.Example.COM,   foo.example.com",
      "FOO.example.com,  foo.EXAMPLE.com,   foo.example.com",
      "'*.Example.com',  Foo.example.COM,   foo.example.com",
      "Foo.example.com,  '*.EXAMPLE.com',   foo.example.com",
  })
  void intersectionIgnoresCaseAndReturnsLowerCase(String listener, String route,
      String expected) {
    assertThat(Hostnames.intersect(listener, route)).isEqualTo(expected);
  }

  static Stream<Arguments> hostnamePairs() {
    String[] names = {"foo.example.com", "bar.example.com", "a.b.example.com", "example.com",
        "*.example.com", "*.b.example.com", "*.example.org", "foo.example.org"};
    Stream.Builder<Arguments> pairs = Stream.builder();
    for (String a : names) {
      for (String b : names) {
        pairs.add(Arguments.of(a, b));
      }
    }
    return pairs.build();
  }

  @ParameterizedTest(name = "{0} ∩ {1}")
  @MethodSource("hostnamePairs")
  void intersectionIsSymmetric(String a, String b) {
    assertThat(Hostnames.intersect(a, b)).isEqualTo(Hostnames.intersect(b, a));
  }

  @ParameterizedTest(name = "{0} is more specific than {1}")
  @CsvSource({
      // exact names first, even when a wildcard is longer
      "foo.example.com,            '*.example.com'",
      "a.io,                       '*.very.long.subdomain.example.com'",
      // Gateway API: more characters in a matching non-wildcard hostname win
      "foo.bar.example.com,        foo.example.com",
      // wildcards by length: a longer suffix is more specific
      "'*.foo.example.com',        '*.example.com'",
      "'*.example.com',            '*.io'",
      // anything beats the catch-all
      "'*.io',                     '*'",
      "a,                          '*'",
  })
  void specificityRanksExactThenLongerWildcardThenCatchAll(String more, String less) {
    assertThat(Hostnames.specificity(more)).isGreaterThan(Hostnames.specificity(less));
  }

  @Test
  void longestPossibleWildcardStillRanksBelowShortestExactName() {
    String longestWildcard = "*." + nameOfLength(251);
    assertThat(Hostnames.isValid(longestWildcard)).isTrue();
    assertThat(Hostnames.specificity("a")).isGreaterThan(Hostnames.specificity(longestWildcard));
  }

  @ParameterizedTest(name = "{0} is a wildcard: {1}")
  @CsvSource({
      "'*.example.com', true",
      "example.com,     false",
      "'*',             false",
  })
  void onlyALeadingStarLabelMakesAWildcard(String hostname, boolean wildcard) {
    assertThat(Hostnames.isWildcard(hostname)).isEqualTo(wildcard);
  }
}
