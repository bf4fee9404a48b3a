package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.Filters;
import io.portico.ir.HeaderMatch;
import io.portico.ir.PathMatch;
import io.portico.ir.QueryParamMatch;
import io.portico.ir.RouteMatch;
import io.portico.ir.SourceRef;
import io.portico.ir.WeightedBackend;
import io.portico.translate.RoutePrecedence.Candidate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Gateway API HTTPRouteRule precedence, as used to order the routes of one virtual host. */
class RoutePrecedenceTest {

  private static final String T0 = "2024-01-01T00:00:00Z";
  private static final BackendGroup BACKENDS = BackendGroup.of("g",
      List.of(WeightedBackend.of("b", 1, BackendKey.service("default", "svc", 80))));

  private static HTTPRoute route(String namespace, String name, String creationTimestamp) {
    return new HTTPRouteBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .withCreationTimestamp(creationTimestamp)
        .endMetadata()
        .build();
  }

  private static RouteEntry entry(HTTPRoute route, int rule, int match, RouteMatch routeMatch) {
    String ns = route.getMetadata().getNamespace();
    String name = route.getMetadata().getName();
    return new RouteEntry(route, rule, match,
        "httproute/" + ns + "/" + name + "/rule/" + rule + "/match/" + match,
        new SourceRef("HTTPRoute", ns, name, "rule/" + rule), routeMatch, BACKENDS,
        List.of("*"), Filters.NONE, null);
  }

  private static Candidate candidate(RouteMatch match) {
    return candidate(route("default", "web", T0), 0, 0, match, "*");
  }

  private static Candidate candidate(HTTPRoute route, int rule, int match, RouteMatch routeMatch,
      String matchedHostname) {
    return new Candidate(entry(route, rule, match, routeMatch), matchedHostname);
  }

  private static RouteMatch match(PathMatch path, String method, int headers, int queryParams) {
    return new RouteMatch(path, method,
        IntStream.range(0, headers).mapToObj(i -> HeaderMatch.exact("x-h" + i, "v")).toList(),
        IntStream.range(0, queryParams).mapToObj(i -> QueryParamMatch.exact("q" + i, "v")).toList());
  }

  private static RouteMatch match(PathMatch path) {
    return match(path, null, 0, 0);
  }

  /** Asserts that {@code preferred} sorts strictly before {@code other}, both ways round. */
  private static void assertPreferred(Candidate preferred, Candidate other) {
    assertThat(RoutePrecedence.ORDER.compare(preferred, other)).isNegative();
    assertThat(RoutePrecedence.ORDER.compare(other, preferred)).isPositive();
    List<Candidate> sorted = new ArrayList<>(List.of(other, preferred));
    sorted.sort(RoutePrecedence.ORDER);
    assertThat(sorted).containsExactly(preferred, other);
  }

  static Stream<Arguments> matchPrecedence() {
    PathMatch root = PathMatch.prefix("/");
    return Stream.of(
        Arguments.of("exact path beats prefix of the same value",
            match(PathMatch.exact("/foo")), match(PathMatch.prefix("/foo"))),
        Arguments.of("short exact path beats long prefix",
            match(PathMatch.exact("/a")), match(PathMatch.prefix("/a/very/long/prefix"))),
        Arguments.of("exact path beats regex",
            match(PathMatch.exact("/a")), match(PathMatch.regularExpression("/a/.*/very/long"))),
        Arguments.of("regex beats prefix (implementation-specific, Envoy Gateway order)",
            match(PathMatch.regularExpression("/a.*")), match(PathMatch.prefix("/a/long/prefix"))),
        Arguments.of("longer regex beats shorter regex",
            match(PathMatch.regularExpression("/api/v[0-9]+")),
            match(PathMatch.regularExpression("/api/.*"))),
        Arguments.of("longer prefix beats shorter prefix",
            match(PathMatch.prefix("/abc/def")), match(PathMatch.prefix("/abc"))),
        Arguments.of("any prefix beats root prefix",
            match(PathMatch.prefix("/a")), match(root)),
        Arguments.of("longer prefix beats method match on shorter prefix",
            match(PathMatch.prefix("/abc")), match(root, "GET", 0, 0)),
        Arguments.of("method match beats none",
            match(root, "GET", 0, 0), match(root)),
        Arguments.of("method match beats more header matches",
            match(root, "POST", 0, 0), match(root, null, 3, 0)),
        Arguments.of("method and headers beat method alone",
            match(root, "GET", 1, 0), match(root, "GET", 0, 0)),
        Arguments.of("more header matches beat fewer",
            match(root, null, 2, 0), match(root, null, 1, 0)),
        Arguments.of("one header match beats none",
            match(root, null, 1, 0), match(root)),
        Arguments.of("header matches beat more query param matches",
            match(root, null, 1, 0), match(root, null, 0, 3)),
        Arguments.of("more query param matches beat fewer",
            match(root, null, 0, 2), match(root, null, 0, 1)),
        Arguments.of("one query param match beats none",
            match(root, null, 0, 1), match(root)),
        Arguments.of("with equal headers, more query params win",
            match(root, "GET", 2, 1), match(root, "GET", 2, 0)),
        Arguments.of("bare exact path beats prefix with every other condition",
            match(PathMatch.exact("/x")), match(PathMatch.prefix("/x/y/z"), "GET", 3, 3)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("matchPrecedence")
  void moreSpecificMatchComesFirst(String description, RouteMatch preferred, RouteMatch other) {
    assertPreferred(candidate(preferred), candidate(other));
  }

  @ParameterizedTest(name = "matched hostname {0} beats {1}")
  @CsvSource({
      "foo.example.com,    '*.example.com'",
      "foo.example.com,    '*'",
      "'*.foo.example.com', '*.example.com'",
      "'*.example.com',    '*'",
  })
  void moreSpecificMatchedHostnameComesFirstWhateverTheMatch(String preferredHost,
      String otherHost) {
    HTTPRoute route = route("default", "web", T0);
    Candidate preferred = candidate(route, 0, 0, match(PathMatch.prefix("/")), preferredHost);
    Candidate other = candidate(route, 1, 0,
        match(PathMatch.exact("/exact"), "GET", 2, 2), otherHost);
    assertPreferred(preferred, other);
  }

  @ParameterizedTest(name = "{0}/{1}@{2} beats {3}/{4}@{5}")
  @CsvSource({
      // the oldest route wins, whatever its name
      "default, z,   2020-01-01T00:00:00Z, default, a,   2021-01-01T00:00:00Z",
      "zz,      a,   2020-01-01T00:00:00Z, aa,      a,   2021-01-01T00:00:00Z",
      // the spec's example: one second older wins
      "default, b,   2020-09-08T01:02:03Z, default, a,   2020-09-08T01:02:04Z",
      // timestamps compare as instants, not as text
      "default, b,   2024-01-01T01:00:00+01:00, default, a, 2024-01-01T00:30:00Z",
      // equal age: alphabetical by namespace, then name (spec example: foo/bar over foo/baz)
      "a,       z,   2024-01-01T00:00:00Z, b,       a,   2024-01-01T00:00:00Z",
      "foo,     bar, 2024-01-01T00:00:00Z, foo,     baz, 2024-01-01T00:00:00Z",
      "foo,     web, 2024-01-01T00:00:00Z, foo,     web2, 2024-01-01T00:00:00Z",
      "team-a,  x,   2024-01-01T00:00:00Z, team-b,  a,   2024-01-01T00:00:00Z",
  })
  void tiesGoToTheOlderRouteThenNamespaceAndNameAlphabetically(String ns1, String name1,
      String created1, String ns2, String name2, String created2) {
    RouteMatch same = match(PathMatch.prefix("/app"), "GET", 1, 1);
    assertPreferred(candidate(route(ns1, name1, created1), 0, 0, same, "*"),
        candidate(route(ns2, name2, created2), 0, 0, same, "*"));
  }

  @ParameterizedTest(name = "rule {0} match {1} beats rule {2} match {3}")
  @CsvSource({
      "0, 0, 1, 0",
      "0, 3, 1, 0",
      "1, 0, 2, 5",
      "0, 0, 0, 1",
      "2, 1, 2, 2",
  })
  void withinOneRouteTheFirstRuleThenTheFirstMatchWins(int rule1, int match1, int rule2,
      int match2) {
    HTTPRoute route = route("default", "web", T0);
    RouteMatch same = match(PathMatch.prefix("/"));
    assertPreferred(candidate(route, rule1, match1, same, "*"),
        candidate(route, rule2, match2, same, "*"));
  }

  @Test
  void olderRouteBeatsEarlierRuleOfNewerRoute() {
    RouteMatch same = match(PathMatch.prefix("/"));
    assertPreferred(
        candidate(route("default", "old", "2020-01-01T00:00:00Z"), 7, 3, same, "*"),
        candidate(route("default", "new", "2021-01-01T00:00:00Z"), 0, 0, same, "*"));
  }

  @Test
  void moreSpecificMatchOfNewerRouteBeatsOlderRoute() {
    assertPreferred(
        candidate(route("default", "new", "2021-01-01T00:00:00Z"), 0, 0,
            match(PathMatch.prefix("/api/v2")), "*"),
        candidate(route("default", "old", "2020-01-01T00:00:00Z"), 0, 0,
            match(PathMatch.prefix("/api")), "*"));
  }

  @Test
  void identicalCandidatesCompareEqual() {
    Candidate a = candidate(match(PathMatch.prefix("/a"), "GET", 1, 1));
    Candidate b = candidate(match(PathMatch.prefix("/a"), "GET", 1, 1));
    assertThat(RoutePrecedence.ORDER.compare(a, b)).isZero();
  }

  @Test
  void fullOrderingIsIndependentOfInputOrder() {
    HTTPRoute old = route("default", "old", "2020-01-01T00:00:00Z");
    HTTPRoute young = route("default", "young", "2022-01-01T00:00:00Z");
    HTTPRoute sameAgeA = route("alpha", "r", "2021-01-01T00:00:00Z");
    HTTPRoute sameAgeB = route("beta", "r", "2021-01-01T00:00:00Z");
    PathMatch root = PathMatch.prefix("/");
    List<Candidate> expected = List.of(
        candidate(young, 0, 0, match(root), "foo.example.com"),
        candidate(young, 0, 0, match(PathMatch.exact("/login")), "*.example.com"),
        candidate(young, 0, 1, match(PathMatch.regularExpression("/api/v[0-9]+/.*")), "*"),
        candidate(young, 1, 0, match(PathMatch.prefix("/api/v1")), "*"),
        candidate(young, 1, 1, match(PathMatch.prefix("/api"), "GET", 0, 0), "*"),
        candidate(young, 1, 2, match(PathMatch.prefix("/api"), null, 2, 0), "*"),
        candidate(young, 2, 0, match(PathMatch.prefix("/api"), null, 1, 2), "*"),
        candidate(young, 2, 1, match(PathMatch.prefix("/api"), null, 1, 1), "*"),
        candidate(old, 3, 0, match(root), "*"),
        candidate(sameAgeA, 0, 0, match(root), "*"),
        candidate(sameAgeB, 0, 0, match(root), "*"),
        candidate(young, 0, 2, match(root), "*"),
        candidate(young, 4, 0, match(root), "*"));
    Random random = new Random(7);
    for (int i = 0; i < 25; i++) {
      List<Candidate> shuffled = new ArrayList<>(expected);
      Collections.shuffle(shuffled, random);
      shuffled.sort(RoutePrecedence.ORDER);
      assertThat(shuffled).containsExactlyElementsOf(expected);
    }
  }
}
