package io.portico.proxy.tcp;

import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The PROXY protocol v1 header the stream proxy sends before a handed-over connection. */
class HttpsHandoffTest {

  @Test
  void ipv4ClientAndListenerAreNamedInATcp4Line() {
    assertThat(HttpsHandoff.header(SocketAddress.inetSocketAddress(51000, "203.0.113.7"),
        SocketAddress.inetSocketAddress(443, "10.0.0.1")).toString())
        .isEqualTo("PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n");
  }

  @Test
  void ipv6ClientAndListenerAreNamedInATcp6Line() {
    assertThat(HttpsHandoff.header(SocketAddress.inetSocketAddress(51000, "2001:db8::7"),
        SocketAddress.inetSocketAddress(443, "2001:db8::1")).toString())
        .startsWith("PROXY TCP6 2001:db8:0:0:0:0:0:7 2001:db8:0:0:0:0:0:1 51000 443")
        .endsWith("\r\n");
  }
}
