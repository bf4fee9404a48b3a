package io.portico.translate;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.SupportedFeature;
import io.portico.resource.ObjectKey;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** GatewayClass status reports exactly the features Portico claims, sorted by name. */
class SupportedFeaturesTest {

  @Test
  void gatewayClassStatusListsEveryClaimedFeatureInNameOrder() throws Exception {
    Translation translation = TranslatorGoldenTest.translate(
        Path.of("src", "test", "resources", "translate", "grpc-routes.in.yaml"));

    var status = translation.status().gatewayClasses()
        .get(new ObjectKey("GatewayClass", "", "portico"));
    assertThat(status.getSupportedFeatures()).extracting(SupportedFeature::getName)
        .containsExactlyElementsOf(SupportedFeatures.SORTED)
        .containsExactlyInAnyOrderElementsOf(SupportedFeatures.ALL)
        .isSorted()
        .contains("GRPCRoute", "HTTPRoute", "Gateway");
  }
}
