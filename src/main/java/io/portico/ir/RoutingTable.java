package io.portico.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Portico's immutable routing table: what every proxy verticle serves. It is the output of the
 * translator and holds no Kubernetes objects, only proxy concepts with a {@link SourceRef} back
 * to the YAML they came from.
 *
 * @param httpPorts the HTTP listener ports, sorted by port number
 */
public record RoutingTable(List<HttpPort> httpPorts) {

  public static final RoutingTable EMPTY = new RoutingTable(List.of());

  public RoutingTable {
    httpPorts = List.copyOf(httpPorts);
  }

  /** Returns the entry for {@code port} on the shared address, or null when no listener uses it. */
  public HttpPort httpPort(int port) {
    return httpPort("", port);
  }

  /** Returns the entry for {@code port} on {@code address}, or null when no listener uses it. */
  public HttpPort httpPort(String address, int port) {
    for (HttpPort httpPort : httpPorts) {
      if (httpPort.port() == port && httpPort.address().equals(address)) {
        return httpPort;
      }
    }
    return null;
  }

  /**
   * Returns what is structurally wrong with this table (empty when it may be served). The
   * translator should never produce such a table; a proxy refuses one and keeps the last good.
   */
  public List<String> validate() {
    List<String> problems = new ArrayList<>();
    Set<String> ports = new HashSet<>();
    for (HttpPort httpPort : httpPorts) {
      if (!ports.add(httpPort.address() + "|" + httpPort.port())) {
        problems.add("port " + httpPort.port() + " on '" + httpPort.address() + "' appears twice");
      }
      Set<String> hostnames = new HashSet<>();
      for (Listener listener : httpPort.listeners()) {
        if (!hostnames.add(String.valueOf(listener.hostname()))) {
          problems.add("port " + httpPort.port() + ": two listeners for hostname "
              + listener.hostname());
        }
      }
    }
    return problems;
  }
}
