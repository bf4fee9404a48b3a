package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilterBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilterBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.portico.ir.Filters;
import io.portico.ir.HeaderModifier;
import io.portico.translate.RuleCompiler.InvalidRule;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Header values of RequestHeaderModifier and ResponseHeaderModifier: a control character
 * (other than a tab) refuses the rule at translation, naming the header, instead of failing
 * each request it matches when Vert.x refuses the value.
 */
class HeaderFilterValuesTest {

  private static List<HTTPRouteFilter> setting(String type, String value) {
    var header = new HTTPHeaderFilterBuilder().addNewSet().withName("x-note").withValue(value)
        .endSet().build();
    HTTPRouteFilterBuilder filter = new HTTPRouteFilterBuilder().withType(type);
    if (type.equals("RequestHeaderModifier")) {
      filter.withRequestHeaderModifier(header);
    } else {
      filter.withResponseHeaderModifier(header);
    }
    return List.of(filter.build());
  }

  @ParameterizedTest(name = "0x{0}")
  @ValueSource(ints = {0x00, 0x01, 0x07, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F})
  void aControlCharacterInAValueRefusesTheRuleNamingTheHeader(int control) {
    String value = "a" + (char) control + "b";
    for (String type : List.of("RequestHeaderModifier", "ResponseHeaderModifier")) {
      assertThatThrownBy(() -> FilterCompiler.compile("rule 0", setting(type, value),
          new HTTPRouteRule(), null))
          .as(type)
          .isInstanceOf(InvalidRule.class)
          .hasMessageContaining("x-note")
          .hasMessageContaining(String.format("0x%02X", control));
    }
  }

  @ParameterizedTest(name = "value [{index}] \"{0}\"")
  @ValueSource(strings = {"plain", "tab\tinside", "spaces and visible !#$%&'()*+,-./:;<=>?@[]^_`{|}~",
      "latin-1 caf\u00e9", ""})
  void visibleCharactersSpacesAndTabsAreKept(String value) throws InvalidRule {
    for (String type : List.of("RequestHeaderModifier", "ResponseHeaderModifier")) {
      Filters filters = FilterCompiler.compile("rule 0", setting(type, value),
          new HTTPRouteRule(), null);
      HeaderModifier modifier = type.equals("RequestHeaderModifier")
          ? filters.requestHeaders() : filters.responseHeaders();
      assertThat(modifier.set()).as(type)
          .containsExactly(new HeaderModifier.Header("x-note", value));
    }
  }
}
