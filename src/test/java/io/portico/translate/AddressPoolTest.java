package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AddressPoolTest {

  private static Gateway gateway(String name, String address) {
    GatewayBuilder builder = new GatewayBuilder().withNewMetadata().withNamespace("infra")
        .withName(name).endMetadata().withNewSpec().withGatewayClassName("c").endSpec();
    if (address != null) {
      builder.editSpec().addNewAddress().withType("IPAddress").withValue(address).endAddress()
          .endSpec();
    }
    return builder.build();
  }

  @Test
  void everyGatewayGetsADistinctAddressInsideTheBlock() {
    List<Gateway> gateways = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      gateways.add(gateway("gw-" + i, null));
    }

    Map<Gateway, String> assigned = AddressPool.parse("127.0.10.0/24").assign(gateways);

    assertThat(new HashSet<>(assigned.values())).hasSize(200);
    assertThat(assigned.values()).allSatisfy(a -> assertThat(a).matches("127\\.0\\.10\\.\\d+")
        .isNotIn("127.0.10.0", "127.0.10.255"));
  }

  @Test
  void addressIsStableWhenOtherGatewaysComeAndGo() {
    Gateway kept = gateway("kept", null);
    String alone = AddressPool.parse("127.0.10.0/24").assign(List.of(kept)).get(kept);
    String withOthers = AddressPool.parse("127.0.10.0/24")
        .assign(List.of(kept, gateway("newer-a", null), gateway("newer-b", null))).get(kept);

    assertThat(withOthers).isEqualTo(alone);
  }

  @Test
  void newerGatewaysGetNoAddressOnceTheBlockIsUsedUp() {
    List<Gateway> gateways = List.of(gateway("a", null), gateway("b", null), gateway("c", null));

    // A /30 has two usable addresses.
    Map<Gateway, String> assigned = AddressPool.parse("127.0.10.0/30").assign(gateways);

    assertThat(assigned.get(gateways.get(0))).matches("127\\.0\\.10\\.[12]");
    assertThat(assigned.get(gateways.get(1))).matches("127\\.0\\.10\\.[12]");
    assertThat(assigned.get(gateways.get(2))).isEqualTo(AddressPool.NOT_ASSIGNED);
  }

  @Test
  void requestedIpAddressWins() {
    Gateway pinned = gateway("pinned", "127.0.20.7");
    assertThat(AddressPool.parse("127.0.10.0/24").assign(List.of(pinned)).get(pinned))
        .isEqualTo("127.0.20.7");
  }

  @ParameterizedTest
  @ValueSource(strings = {"127.0.10.0", "127.0.10.0/33", "127.0.10.0/4", "300.0.0.0/24", "a.b.c.d/24"})
  void malformedBlocksAreRefusedWithTheValue(String cidr) {
    assertThatThrownBy(() -> AddressPool.parse(cidr))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(cidr);
  }
}
