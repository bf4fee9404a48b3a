package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPCORSFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPCORSFilterBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilterBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.portico.ir.Cors;
import io.portico.translate.RuleCompiler.InvalidRule;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CORS filter's fields as the Gateway API schema allows them: what would go out as a header
 * value Vert.x refuses (a control character in a header name, say) refuses the rule at
 * translation, naming the field and the value, instead of failing every preflight or answer.
 */
class CorsFilterValuesTest {

  private static Cors compile(HTTPCORSFilter cors) throws InvalidRule {
    return FilterCompiler.compile("rule 0", List.of(new HTTPRouteFilterBuilder().withType("CORS")
        .withCors(cors).build()), new HTTPRouteRule(), null).cors();
  }

  private static HTTPCORSFilterBuilder valid() {
    return new HTTPCORSFilterBuilder().withAllowOrigins("https://www.example.com",
            "https://*.example.org", "http://localhost:8080")
        .withAllowMethods("GET", "OPTIONS", "*")
        .withAllowHeaders("x-header-1", "Authorization", "*")
        .withExposeHeaders("x-header-3");
  }

  @Test
  void theSchemasValuesAreKept() throws InvalidRule {
    Cors cors = compile(valid().build());
    assertThat(cors.allowOrigins()).containsExactly("https://www.example.com",
        "https://*.example.org", "http://localhost:8080");
    assertThat(cors.allowMethods()).containsExactly("GET", "OPTIONS", "*");
    assertThat(cors.allowHeaders()).containsExactly("x-header-1", "Authorization", "*");
    assertThat(cors.exposeHeaders()).containsExactly("x-header-3");
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"x-a\u0007b", "x-a\r\nx-b", "x a", "x-a:b", ""})
  void aHeaderNameOutsideTheSchemaRefusesTheRuleNamingTheField(String name) {
    assertThatThrownBy(() -> compile(valid().withAllowHeaders(name).build()))
        .isInstanceOf(InvalidRule.class)
        .hasMessageContaining("allowHeaders '" + name + "'");
    assertThatThrownBy(() -> compile(valid().withExposeHeaders("x-ok", name).build()))
        .isInstanceOf(InvalidRule.class)
        .hasMessageContaining("exposeHeaders '" + name + "'");
  }

  @Test
  void aHeaderNameLongerThan256RefusesTheRule() {
    String name = "x".repeat(257);
    assertThatThrownBy(() -> compile(valid().withAllowHeaders(name).build()))
        .isInstanceOf(InvalidRule.class)
        .hasMessageContaining("at most 256");
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"get", "FOO", "GET\r\n", "GET, POST"})
  void aMethodOutsideTheSchemasListRefusesTheRule(String method) {
    assertThatThrownBy(() -> compile(valid().withAllowMethods(method).build()))
        .isInstanceOf(InvalidRule.class)
        .hasMessageContaining("allowMethods '" + method + "'");
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"https://a b.example.com", "https://a\u0007.example.com",
      "https://example.com/path", "example.com", "https://*"})
  void anOriginThatIsNotSchemeHostPortRefusesTheRule(String origin) {
    assertThatThrownBy(() -> compile(valid().withAllowOrigins(origin).build()))
        .isInstanceOf(InvalidRule.class)
        .hasMessageContaining("allowOrigins '" + origin + "'");
  }
}
