package io.portico.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.portico.ir.Endpoint;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

/** An endpoint's socket address is made once and the table stays bounded. */
class EndpointAddressesTest {

  @Test
  void reusesTheAddressOfAnEndpointAndStaysBounded() {
    EndpointAddresses addresses = new EndpointAddresses();
    SocketAddress first = addresses.of(new Endpoint("10.1.2.3", 8080));

    assertThat(first.hostAddress()).isEqualTo("10.1.2.3");
    assertThat(first.port()).isEqualTo(8080);
    assertThat(addresses.of(new Endpoint("10.1.2.3", 8080))).isSameAs(first);
    assertThat(addresses.of(new Endpoint("10.1.2.3", 8081)).port()).isEqualTo(8081);
    assertThat(addresses.of(new Endpoint("backend.example", 443)).host())
        .isEqualTo("backend.example");

    for (int i = 0; i < 10_000; i++) {
      addresses.of(new Endpoint("10.9." + (i / 250) + "." + (i % 250), 80));
    }
    // Past its bound the table started over: the first address is made anew, equal to before.
    SocketAddress again = addresses.of(new Endpoint("10.1.2.3", 8080));
    assertThat(again).isNotSameAs(first).isEqualTo(first);
  }
}
