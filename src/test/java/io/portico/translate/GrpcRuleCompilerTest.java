package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatchBuilder;
import io.portico.ir.RouteMatch;
import io.portico.translate.RuleCompiler.InvalidRule;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GRPCRouteMatch compilation (method matches as paths, CRD validation naming the field) and
 * the GRPCRouteRule precedence between matches.
 */
class GrpcRuleCompilerTest {

  private static final String FIELD = "spec.rules[0].matches[0]";

  /** A match on {@code type} (null: the default) with service and method (null: unset). */
  private static GRPCRouteMatch method(String type, String service, String method,
      int headers) {
    return new GRPCRouteMatchBuilder()
        .withMethod(new GRPCMethodMatchBuilder().withType(type).withService(service)
            .withMethod(method).build())
        .withHeaders(IntStream.range(0, headers).mapToObj(i -> new GRPCHeaderMatchBuilder()
            .withName("x-h" + i).withValue("v").build()).toList())
        .build();
  }

  private static String nullable(String value) {
    return value == null || value.equals("-") ? null : value;
  }

  @ParameterizedTest(name = "{0} {1}/{2}: {3} matches, {4} does not")
  @CsvSource({
      // type, service, method, a path that matches, a path that does not
      "Exact,             echo.Echo,   Ping,   /echo.Echo/Ping,    /echo.Echo/Pong",
      "-,                 echo.Echo,   Ping,   /echo.Echo/Ping,    /echo.Echo/Ping/x",
      "Exact,             echo.Echo,   -,      /echo.Echo/Ping,    /echo.EchoX/Ping",
      "Exact,             .pkg.Svc,    -,      /.pkg.Svc/Any,      /pkg.Svc/Any",
      "Exact,             -,           Ping,   /any.Service/Ping,  /any.Service/PingX",
      "RegularExpression, echo\\..*,   -,      /echo.Two/Ping,     /other.Two/Ping",
      "RegularExpression, -,           Pi.g,   /a.B/Ping,          /a.B/Pong",
      "RegularExpression, echo\\.E.*,  Ping|Pong, /echo.Echo/Pong, /echo.Echo/Peng",
      "RegularExpression, a|b,         c,      /a/c,               /ab/c",
  })
  void methodMatchBecomesAPathMatch(String type, String service, String method,
      String matching, String other) throws InvalidRule {
    RouteMatch match = GrpcRuleCompiler.match(FIELD,
        method(nullable(type), nullable(service), nullable(method), 0));
    assertThat(match.path().matches(matching)).isTrue();
    assertThat(match.path().matches(other)).isFalse();
    assertThat(match.method()).isNull(); // gRPC is POST; Envoy Gateway matches no method either
  }

  static Stream<Arguments> invalidMatches() {
    return Stream.of(
        Arguments.of("neither service nor method",
            method("Exact", null, null, 0), FIELD + ".method: one or both"),
        Arguments.of("neither, as a regex",
            method("RegularExpression", "", "", 0), FIELD + ".method: one or both"),
        Arguments.of("exact service with a slash",
            method(null, "a/b", "Ping", 0), FIELD + ".method.service: 'a/b'"),
        Arguments.of("exact method with a dot",
            method(null, "a.B", "Pi.ng", 0), FIELD + ".method.method: 'Pi.ng'"),
        Arguments.of("service regex that does not compile",
            method("RegularExpression", "(a", null, 0),
            FIELD + ".method.service: regular expression '(a' is not supported"),
        Arguments.of("method regex with lookahead (not RE2)",
            method("RegularExpression", null, "(?!x)y", 0),
            FIELD + ".method.method: regular expression '(?!x)y' is not supported"),
        Arguments.of("unknown type",
            method("Prefix", "a.B", null, 0), FIELD + ".method.type: Unsupported value"),
        Arguments.of("header regex with a backreference",
            new GRPCRouteMatchBuilder().withHeaders(new GRPCHeaderMatchBuilder()
                .withName("x").withType("RegularExpression").withValue("(a)\\1").build())
                .build(),
            FIELD + ".headers[0].value: regular expression"),
        Arguments.of("header name that is not a token",
            new GRPCRouteMatchBuilder().withHeaders(new GRPCHeaderMatchBuilder()
                .withName("bad name").withValue("v").build()).build(),
            FIELD + ".headers[0].name"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidMatches")
  void invalidMatchIsRefusedNamingTheField(String description, GRPCRouteMatch match,
      String message) {
    assertThatThrownBy(() -> GrpcRuleCompiler.match(FIELD, match))
        .isInstanceOf(InvalidRule.class)
        .hasMessageStartingWith(message);
  }

  static Stream<Arguments> precedence() {
    return Stream.of(
        Arguments.of("longer exact service beats shorter",
            method(null, "pkg.LongService", null, 0), method(null, "pkg.Svc", "LongMethod", 3)),
        Arguments.of("service and method beat service alone",
            method(null, "a.Svc", "Get", 0), method(null, "a.Svc", null, 5)),
        Arguments.of("longer method beats shorter with the same service",
            method(null, "a.Svc", "GetAll", 0), method(null, "a.Svc", "Get", 2)),
        Arguments.of("any exact service beats a method alone",
            method(null, "a.B", null, 0), method(null, null, "VeryLongMethodName", 0)),
        Arguments.of("exact service beats a regex service",
            method(null, "a.B", null, 0), method("RegularExpression", "a\\.B.*", "Get", 0)),
        Arguments.of("with equal service and method, more headers win",
            method(null, "a.B", "Get", 2), method(null, "a.B", "Get", 1)),
        Arguments.of("a header match beats a match of every call",
            new GRPCRouteMatchBuilder().withHeaders(new GRPCHeaderMatchBuilder()
                .withName("x").withValue("v").build()).build(),
            new GRPCRouteMatch()),
        Arguments.of("two matches on one header name count once",
            method(null, "a.B", "Get", 2),
            new GRPCRouteMatchBuilder()
                .withMethod(new GRPCMethodMatchBuilder().withService("a.B").withMethod("Get")
                    .build())
                .withHeaders(new GRPCHeaderMatchBuilder().withName("x").withValue("1").build(),
                    new GRPCHeaderMatchBuilder().withName("X").withValue("2").build())
                .build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("precedence")
  void moreSpecificMatchRanksFirst(String description, GRPCRouteMatch preferred,
      GRPCRouteMatch other) {
    GrpcMatchRank first = GrpcRuleCompiler.rank(preferred);
    GrpcMatchRank second = GrpcRuleCompiler.rank(other);
    assertThat(GrpcMatchRank.ORDER.compare(first, second)).isNegative();
    assertThat(GrpcMatchRank.ORDER.compare(second, first)).isPositive();
    List<GrpcMatchRank> sorted = new ArrayList<>(List.of(second, first));
    sorted.sort(GrpcMatchRank.ORDER);
    assertThat(sorted).containsExactly(first, second);
  }
}
