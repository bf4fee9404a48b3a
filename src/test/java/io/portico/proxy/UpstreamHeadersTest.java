package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The client address X-Forwarded-For gets, however Vert.x came to know it. */
class UpstreamHeadersTest {

  @Test
  void anAcceptedConnectionsAddressIsItsIpLiteral() throws Exception {
    assertThat(UpstreamHeaders.clientAddress(SocketAddress.inetSocketAddress(
        new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 40000)))).isEqualTo("192.0.2.7");
    assertThat(UpstreamHeaders.clientAddress(SocketAddress.inetSocketAddress(
        new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40000))))
        .isEqualTo(InetAddress.getByName("2001:db8::7").getHostAddress());
  }

  @Test
  void aProxyProtocolAddressIsTheLiteralItCarried() {
    assertThat(UpstreamHeaders.clientAddress(SocketAddress.inetSocketAddress(40000, "198.51.100.9")))
        .isEqualTo("198.51.100.9");
  }

  @Test
  void aNamedAddressGivesItsIpNotItsName() throws Exception {
    InetSocketAddress named = new InetSocketAddress(
        InetAddress.getByAddress("client.example", new byte[] {(byte) 203, 0, 113, 5}), 40000);
    assertThat(UpstreamHeaders.clientAddress(SocketAddress.inetSocketAddress(named)))
        .isEqualTo("203.0.113.5");
    assertThat(UpstreamHeaders.clientAddress(null)).isNull();
  }
}
