package io.portico.proxy.upstream;

import io.portico.ir.Endpoint;
import io.vertx.core.net.SocketAddress;

import java.util.HashMap;
import java.util.Map;

/**
 * The Vert.x socket address of each endpoint, made once: Vert.x parses an IP literal into bytes
 * and an InetAddress for every address it is given, which per request is work the endpoint
 * already did. One per proxy verticle (confined to its event loop); forgets everything when it
 * has grown past {@value #MAX} endpoints, so memory stays bounded while pods come and go.
 */
final class EndpointAddresses {

  private static final int MAX = 4096;

  private final Map<Endpoint, SocketAddress> addresses = new HashMap<>();

  /** Returns the address requests to {@code endpoint} are sent to. */
  SocketAddress of(Endpoint endpoint) {
    SocketAddress address = addresses.get(endpoint);
    if (address == null) {
      if (addresses.size() >= MAX) {
        addresses.clear();
      }
      address = SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host());
      addresses.put(endpoint, address);
    }
    return address;
  }
}
