package io.portico.resource;

import static org.assertj.core.api.Assertions.assertThat;

import io.portico.resource.YamlResourceReader.ReadResult;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * GRPCRoutes read from files are held to the GRPCRoute CRD's limits, enums and CEL rules, as the
 * API server holds them: the route that breaks one is refused with file:line and the rule.
 */
class GrpcRouteSchemaTest {

  private final YamlResourceReader reader = new YamlResourceReader();

  private static String route(String spec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: g}
        spec:
        %s""".formatted(spec.indent(2));
  }

  private static String repeat(String item, int times) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < times; i++) {
      out.append(item.replace("$i", Integer.toString(i))).append('\n');
    }
    return out.toString();
  }

  static Stream<Arguments> brokenRoutes() {
    return Stream.of(
        Arguments.of("17 rules", "rules:\n" + repeat("- backendRefs: [{name: s, port: 80}]", 17),
            "spec.rules: Too many: 17: must have at most 16 items"),
        Arguments.of("9 matches (GRPCRoute allows 8)", "rules:\n- matches:\n"
                + repeat("  - method: {service: a.S$i}", 9),
            "spec.rules[0].matches: Too many: 9: must have at most 8 items"),
        Arguments.of("a method match with neither service nor method",
            "rules:\n- matches: [{method: {type: Exact}}]",
            "spec.rules[0].matches[0].method: Invalid value: \"object\": One or both of"
                + " 'service' or 'method' must be specified"),
        Arguments.of("an Exact service that is not a protobuf name",
            "rules:\n- matches: [{method: {service: a/b}}]",
            "spec.rules[0].matches[0].method: Invalid value: \"object\": service must only"
                + " contain valid characters"),
        Arguments.of("an Exact method that is not a protobuf name",
            "rules:\n- matches: [{method: {service: a.B, method: \"Get-All\"}}]",
            "method must only contain valid characters"),
        Arguments.of("an unknown method match type",
            "rules:\n- matches: [{method: {type: Prefix, service: a.B}}]",
            "spec.rules[0].matches[0].method.type: Unsupported value: \"Prefix\""),
        Arguments.of("an unknown header match type",
            "rules:\n- matches: [{headers: [{name: x, type: Glob, value: v}]}]",
            "spec.rules[0].matches[0].headers[0].type: Unsupported value: \"Glob\""),
        Arguments.of("a header name that is not a token",
            "rules:\n- matches: [{headers: [{name: \"a b\", value: v}]}]",
            "spec.rules[0].matches[0].headers[0].name: Invalid value: \"a b\""),
        Arguments.of("an HTTPRoute-only filter",
            "rules:\n- filters: [{type: URLRewrite}]",
            "spec.rules[0].filters[0].type: Unsupported value: \"URLRewrite\""),
        Arguments.of("a header modifier twice",
            "rules:\n- filters:\n  - {type: RequestHeaderModifier, requestHeaderModifier: {}}\n"
                + "  - {type: RequestHeaderModifier, requestHeaderModifier: {}}",
            "RequestHeaderModifier filter cannot be repeated"),
        Arguments.of("two rules of one name",
            "rules:\n- {name: a, backendRefs: [{name: s, port: 80}]}\n"
                + "- {name: a, backendRefs: [{name: s, port: 80}]}",
            "Rule name must be unique within the route"),
        Arguments.of("a weight out of range",
            "rules:\n- backendRefs: [{name: s, port: 80, weight: 1000001}]",
            "spec.rules[0].backendRefs[0].weight: Invalid value: 1000001"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenRoutes")
  void routeBreakingTheCrdSchemaIsRefusedWithFileLineAndRule(String what, String spec,
      String rule) {
    ReadResult result = reader.read("grpc.yaml", route(spec));

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.toString()).startsWith("grpc.yaml:1: GRPCRoute/default/g: ");
      assertThat(p.message()).contains(rule);
    });
  }

  @Test
  void routeWithinEveryLimitIsRead() {
    ReadResult result = reader.read("ok.yaml", route("hostnames: [grpc.example.com]\nrules:\n"
        + ("- matches:\n" + repeat("  - method: {type: RegularExpression, service: \"a.*\"}", 8)
            + "  filters:\n  - {type: RequestHeaderModifier, requestHeaderModifier: {}}\n"
            + "  - {type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}}}\n"
            + "  - {type: RequestMirror, requestMirror: {backendRef: {name: n, port: 80}}}\n"
            + "  backendRefs:\n" + repeat("  - {name: s, port: 80}", 16)).repeat(16)));

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).hasSize(1);
  }
}
