package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Host lookup: exact, then the longest wildcard suffix, then the catch-all. */
class HostIndexTest {

  private static final List<String> PATTERNS = List.of(
      "*", "*.example.com", "*.b.example.com", "foo.example.com", "*.com", "example.com");

  private static HostIndex<String> index(List<String> patterns) {
    return HostIndex.build(patterns, p -> p);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      // exact beats every wildcard
      "foo.example.com,     foo.example.com",
      "example.com,         example.com",
      // the longest wildcard suffix wins
      "bar.example.com,     '*.example.com'",
      "a.b.example.com,     '*.b.example.com'",
      "x.y.a.b.example.com, '*.b.example.com'",
      "x.foo.example.com,   '*.example.com'",
      "other.com,           '*.com'",
      // a wildcard never matches its bare suffix
      "b.example.com,       '*.example.com'",
      // wildcards match on label boundaries only
      "fooexample.org,      '*'",
      // the catch-all comes last
      "example.org,         '*'",
      "localhost,           '*'",
      "'',                  '*'",
  })
  void exactBeatsLongestWildcardBeatsCatchAll(String host, String expected) {
    assertThat(index(PATTERNS).find(host)).isEqualTo(expected);
  }

  @Test
  void updatedIndexFindsWhatABuiltOneFinds() {
    Random random = new Random(7);
    List<String> hosts = List.of("foo.example.com", "example.com", "bar.example.com",
        "a.b.example.com", "other.com", "example.org", "b.example.com");
    List<String> current = new ArrayList<>(PATTERNS);
    HostIndex<String> updated = index(current);
    for (int step = 0; step < 50; step++) {
      String pattern = PATTERNS.get(random.nextInt(PATTERNS.size()));
      if (current.remove(pattern)) {
        updated = updated.with(java.util.Map.of(), List.of(pattern));
      } else {
        current.add(pattern);
        updated = updated.with(java.util.Map.of(pattern, pattern), List.of());
      }
      HostIndex<String> built = index(current);
      for (String host : hosts) {
        assertThat(updated.find(host)).as(current + " " + host).isEqualTo(built.find(host));
      }
    }
  }

  @Test
  void resultDoesNotDependOnInsertionOrder() {
    Random random = new Random(42);
    for (int i = 0; i < 20; i++) {
      List<String> shuffled = new ArrayList<>(PATTERNS);
      Collections.shuffle(shuffled, random);
      HostIndex<String> index = index(shuffled);
      assertThat(index.find("a.b.example.com")).isEqualTo("*.b.example.com");
      assertThat(index.find("foo.example.com")).isEqualTo("foo.example.com");
      assertThat(index.find("bar.example.com")).isEqualTo("*.example.com");
      assertThat(index.find("example.org")).isEqualTo("*");
    }
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "FOO.EXAMPLE.COM,     foo.example.com",
      "Foo.Example.Com,     foo.example.com",
      "BAR.example.com,     '*.example.com'",
      "foo.example.com.,    foo.example.com",
      "FOO.example.com.,    foo.example.com",
      "bar.example.com.,    '*.example.com'",
      "Bar.Example.Com.,    '*.example.com'",
      "example.org.,        '*'",
  })
  void lookupIgnoresCaseAndOneTrailingDot(String host, String expected) {
    assertThat(index(PATTERNS).find(host)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "foo.example.com,  Foo.Example.COM",
      "a.example.org,    '*.Example.ORG'",
  })
  void patternsAreIndexedCaseInsensitively(String host, String pattern) {
    assertThat(index(List.of(pattern)).find(host)).isEqualTo(pattern);
  }

  @ParameterizedTest(name = "{0} -> null")
  @ValueSource(strings = {"example.com", "example.com.", "EXAMPLE.COM", "com", "other.org", ""})
  void wildcardNeverMatchesBareSuffixAndNothingMatchesWithoutCatchAll(String host) {
    assertThat(index(List.of("*.example.com", "*.org.example.com")).find(host)).isNull();
  }

  @Test
  void nullOrStarHostnameIsTheCatchAllAndTheFirstOneWins() {
    record Vh(String name, String hostname) { }
    List<Vh> values = List.of(new Vh("first", null), new Vh("second", "*"),
        new Vh("exact-1", "a.example.com"), new Vh("exact-2", "A.example.com"),
        new Vh("wild-1", "*.example.com"), new Vh("wild-2", "*.example.com"));
    HostIndex<Vh> index = HostIndex.build(values, Vh::hostname);
    assertThat(index.find("unknown.org").name()).isEqualTo("first");
    assertThat(index.find("a.example.com").name()).isEqualTo("exact-1");
    assertThat(index.find("b.example.com").name()).isEqualTo("wild-1");
  }

  @ParameterizedTest(name = "{0} -> null")
  @ValueSource(strings = {"a", "example.com", ""})
  void emptyIndexFindsNothing(String host) {
    assertThat(index(List.of()).find(host)).isNull();
  }
}
