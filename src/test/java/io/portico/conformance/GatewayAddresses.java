package io.portico.conformance;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.portico.controller.GatewayState;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.List;

/**
 * Where requests for a Gateway listener go: the Gateway's first status address, and the
 * listener port, raised by {@link #PRIVILEGED_PORT_OFFSET} only when this process cannot bind
 * ports below 1024 (Portico then serves them at the same offset).
 */
final class GatewayAddresses {

  /** Added to listener ports below 1024 when they cannot be bound (Portico's default offset). */
  static final int PRIVILEGED_PORT_OFFSET = 8000;

  private static final boolean OFFSET_NEEDED = !canBindPrivilegedPort();

  private GatewayAddresses() {
  }

  /** Returns the port offset Portico must be started with. */
  static int portOffset() {
    return OFFSET_NEEDED ? PRIVILEGED_PORT_OFFSET : 0;
  }

  /** Returns the Gateway's first status address, or null when it has none yet. */
  static String address(GatewayState state, String namespace, String name) {
    GatewayStatus status = ClusterView.gatewayStatus(state, namespace, name);
    List<GatewayStatusAddress> addresses = status == null ? null : status.getAddresses();
    return addresses == null || addresses.isEmpty() ? null : addresses.get(0).getValue();
  }

  static InetSocketAddress connectTo(String address, int listenerPort) {
    int port = listenerPort < 1024 ? listenerPort + portOffset() : listenerPort;
    return new InetSocketAddress(address, port);
  }

  /**
   * The Host header upstream's client sends when a step names none: the dialled address, with
   * the listener port unless it is the scheme's default (never the offset port).
   */
  static String defaultHost(String address, int listenerPort, String scheme) {
    boolean defaultPort = "http".equals(scheme) && listenerPort == 80
        || "https".equals(scheme) && listenerPort == 443;
    String host = address.contains(":") ? "[" + address + "]" : address;
    return defaultPort ? host : host + ":" + listenerPort;
  }

  private static boolean canBindPrivilegedPort() {
    // Root (or CAP_NET_BIND_SERVICE) can bind any of them; three ports in case one is in use.
    for (int port : new int[] {1023, 1022, 1021}) {
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress("127.0.0.1", port));
        return true;
      } catch (IOException e) {
        // in use or not permitted: try the next
      }
    }
    return false;
  }
}
