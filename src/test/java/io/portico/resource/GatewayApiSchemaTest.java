package io.portico.resource;

import static org.assertj.core.api.Assertions.assertThat;

import io.portico.resource.YamlResourceReader.ReadResult;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

/**
 * Objects read from files are held to the Gateway API CRD schemas' limits, formats and enums, as
 * the API server holds them: the object that breaks one is refused with file:line and the rule,
 * the other objects of the file are kept.
 */
class GatewayApiSchemaTest {

  private final YamlResourceReader reader = new YamlResourceReader();

  private static final String SERVICE = """
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec: {ports: [{port: 80}]}
      ---
      """;

  private static String route(String spec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r}
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
        Arguments.of("17 rules", "rules:\n" + repeat("- backendRefs: [{name: web, port: 80}]", 17),
            "spec.rules: Too many: 17: must have at most 16 items"),
        Arguments.of("33 parentRefs", "parentRefs:\n" + repeat("- {name: gw$i}", 33),
            "spec.parentRefs: Too many: 33: must have at most 32 items"),
        Arguments.of("17 hostnames", "hostnames:\n" + repeat("- h$i.example.com", 17),
            "spec.hostnames: Too many: 17: must have at most 16 items"),
        Arguments.of("a hostname with a port", "hostnames: [\"a.example.com:80\"]",
            "spec.hostnames[0]: Invalid value: \"a.example.com:80\": must be a lower case DNS"),
        Arguments.of("an upper case hostname", "hostnames: [A.example.com]",
            "spec.hostnames[0]: Invalid value: \"A.example.com\""),
        Arguments.of("65 matches", "rules:\n- matches:\n"
                + repeat("  - path: {type: PathPrefix, value: /p$i}", 65),
            "spec.rules[0].matches: Too many: 65: must have at most 64 items"),
        Arguments.of("129 matches over three rules", "rules:\n"
                + ("- matches:\n" + repeat("  - path: {type: PathPrefix, value: /p$i}", 43)).repeat(3),
            "spec.rules: Invalid value: 129 matches"),
        Arguments.of("17 backendRefs", "rules:\n- backendRefs:\n"
                + repeat("  - {name: web, port: 80}", 17),
            "spec.rules[0].backendRefs: Too many: 17: must have at most 16 items"),
        Arguments.of("17 filters", "rules:\n- filters:\n"
                + repeat("  - {type: ResponseHeaderModifier, responseHeaderModifier: {remove: [x]}}", 17),
            "spec.rules[0].filters: Too many: 17: must have at most 16 items"),
        Arguments.of("17 header matches", "rules:\n- matches:\n  - headers:\n"
                + repeat("    - {name: x-h$i, value: v}", 17),
            "spec.rules[0].matches[0].headers: Too many: 17: must have at most 16 items"),
        Arguments.of("17 query matches", "rules:\n- matches:\n  - queryParams:\n"
                + repeat("    - {name: q$i, value: v}", 17),
            "spec.rules[0].matches[0].queryParams: Too many: 17: must have at most 16 items"),
        Arguments.of("an unknown path match type",
            "rules:\n- matches: [{path: {type: Glob, value: /a*}}]",
            "spec.rules[0].matches[0].path.type: Unsupported value: \"Glob\": supported values:"
                + " \"Exact\", \"PathPrefix\", \"RegularExpression\""),
        Arguments.of("an unknown filter type", "rules:\n- filters: [{type: Teleport}]",
            "spec.rules[0].filters[0].type: Unsupported value: \"Teleport\""),
        Arguments.of("an unknown header match type",
            "rules:\n- matches: [{headers: [{name: x, type: Prefix, value: v}]}]",
            "spec.rules[0].matches[0].headers[0].type: Unsupported value: \"Prefix\""),
        Arguments.of("an unknown method", "rules:\n- matches: [{method: FETCH}]",
            "spec.rules[0].matches[0].method: Unsupported value: \"FETCH\""),
        Arguments.of("a relative prefix", "rules:\n- matches: [{path: {type: PathPrefix, value: api}}]",
            "spec.rules[0].matches[0].path: Invalid value: \"api\": value must be an absolute path"),
        Arguments.of("a prefix with dot segments",
            "rules:\n- matches: [{path: {type: PathPrefix, value: /a/../b}}]",
            "must not contain '/./' or '/../'"),
        Arguments.of("a weight out of range", "rules:\n- backendRefs: [{name: web, port: 80, weight: 1000001}]",
            "spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: must be between 0 and 1000000"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenRoutes")
  void routeBreakingTheCrdSchemaIsRefusedWithFileLineAndRule(String what, String spec,
      String rule) {
    ReadResult result = reader.read("routes.yaml", SERVICE + route(spec));

    assertThat(result.objects()).extracting(o -> o.object().getKind()).containsExactly("Service");
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.toString()).startsWith("routes.yaml:6: HTTPRoute/default/r: ");
      assertThat(p.message()).contains(rule);
    });
  }

  @Test
  void tenThousandRulesAreRefusedWithoutLookingAtEachRule() {
    ReadResult result = reader.read("big.yaml", route("rules:\n"
        + repeat("- matches: [{path: {type: Glob, value: x}}]", 10_000)));

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().extracting(ConfigProblem::message)
        .asString().startsWith("HTTPRoute/default/r: spec.rules: Too many: 10000: must have at"
            + " most 16 items; spec.rules[0].matches[0].path.type");
  }

  @Test
  void routeWithinEveryLimitIsRead() {
    ReadResult result = reader.read("ok.yaml", route("parentRefs:\n" + repeat("- {name: gw$i}", 32)
        + "hostnames: [\"*.example.com\", a.example.com]\nrules:\n"
        + ("- matches:\n" + repeat("  - path: {type: PathPrefix, value: /p$i}", 8)
            + "  backendRefs:\n" + repeat("  - {name: web, port: 80}", 16)).repeat(16)));

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).hasSize(1);
  }

  @Test
  void gatewayWithTooManyListenersOrABadHostnameIsRefused() {
    String listeners = repeat("- {name: l$i, protocol: HTTP, port: 80, hostname: h$i.example.com}", 65);
    ReadResult result = reader.read("gw.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: many}
        spec:
          gatewayClassName: portico
          listeners:
        %s---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: bad-host}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: http, protocol: HTTP, port: 80, hostname: "*.Example.com"}
        """.formatted(listeners.indent(2)));

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).hasSize(2);
    assertThat(result.problems().get(0).toString()).startsWith("gw.yaml:1: Gateway/default/many: ")
        .contains("spec.listeners: Too many: 65: must have at most 64 items");
    assertThat(result.problems().get(1).message()).isEqualTo("Gateway/default/bad-host:"
        + " spec.listeners[0].hostname: Invalid value: \"*.Example.com\": must be a lower case"
        + " DNS name of at most 253 characters, optionally starting with '*.' (Gateway API"
        + " Hostname)");
  }

  private static String listenerSet(String name, String spec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: %s}
        spec:
        %s---
        """.formatted(name, spec.indent(2));
  }

  static Stream<Arguments> brokenListenerSets() {
    return Stream.of(
        Arguments.of("65 listeners", "parentRef: {name: gw}\nlisteners:\n"
                + repeat("- {name: l$i, protocol: HTTP, port: 80, hostname: h$i.example.com}", 65),
            "spec.listeners: Too many: 65: must have at most 64 items"),
        Arguments.of("no listener", "parentRef: {name: gw}\nlisteners: []",
            "spec.listeners must have at least one listener"),
        Arguments.of("no parentRef", "listeners: [{name: a, protocol: HTTP, port: 80}]",
            "spec.parentRef.name is required"),
        Arguments.of("a listener name used twice", "parentRef: {name: gw}\nlisteners:\n"
                + "- {name: a, protocol: HTTP, port: 80}\n- {name: a, protocol: HTTP, port: 81}",
            "spec.listeners[1].name \"a\" is used by another listener"),
        Arguments.of("a port out of range", "parentRef: {name: gw}\nlisteners:\n"
                + "- {name: a, protocol: HTTP, port: 70000}",
            "spec.listeners[0].port must be between 1 and 65535, not 70000"),
        Arguments.of("an upper case hostname", "parentRef: {name: gw}\nlisteners:\n"
                + "- {name: a, protocol: HTTP, port: 80, hostname: A.example.com}",
            "spec.listeners[0].hostname: Invalid value: \"A.example.com\""),
        Arguments.of("9 route kinds", "parentRef: {name: gw}\nlisteners:\n"
                + "- name: a\n  protocol: HTTP\n  port: 80\n  allowedRoutes:\n    kinds:\n"
                + repeat("    - {kind: K$i}", 9),
            "spec.listeners[0].allowedRoutes.kinds: Too many: 9: must have at most 8 items"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenListenerSets")
  void listenerSetBreakingTheCrdSchemaIsRefused(String what, String spec, String rule) {
    ReadResult result = reader.read("ls.yaml", SERVICE + listenerSet("ls", spec));

    assertThat(result.objects()).extracting(o -> o.object().getKind()).containsExactly("Service");
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.toString()).startsWith("ls.yaml:6: ListenerSet/default/ls: ");
      assertThat(p.message()).contains(rule);
    });
  }

  @Test
  void listenerSetWithinTheLimitsIsReadAsV1() {
    ReadResult result = reader.read("ls.yaml", listenerSet("ls", "parentRef: {name: gw}\n"
        + "listeners:\n" + repeat("- {name: l$i, protocol: HTTP, port: 80, hostname: h$i.example.com}",
            64)));

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).singleElement().satisfies(o -> {
      assertThat(o.object()).isInstanceOf(
          io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet.class);
      assertThat(o.object().getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1");
    });
  }
}
