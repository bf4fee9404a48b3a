package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

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
 * @param streamPorts the TLS (passthrough), TCP and UDP listener ports, sorted by address and
 *     port number; served by the stream proxy, not by the HTTP proxy
 */
public record RoutingTable(List<HttpPort> httpPorts,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<StreamPort> streamPorts) {

  public static final RoutingTable EMPTY = new RoutingTable(List.of());

  public RoutingTable {
    httpPorts = List.copyOf(httpPorts);
    streamPorts = List.copyOf(streamPorts);
  }

  /** A table without stream ports. */
  public RoutingTable(List<HttpPort> httpPorts) {
    this(httpPorts, List.of());
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
    for (StreamPort streamPort : streamPorts) {
      // TCP and UDP are separate port spaces; TLS and TCP share TCP's, and with HTTP ports too.
      String transport = streamPort.protocol() == StreamProtocol.UDP ? "udp" : "tcp";
      if (!ports.add(streamPort.address() + "|" + streamPort.port()
          + (transport.equals("udp") ? "|udp" : ""))) {
        problems.add(transport + " port " + streamPort.port() + " on '" + streamPort.address()
            + "' appears twice");
      }
      if (streamPort.protocol() != StreamProtocol.TLS && streamPort.listeners().size() != 1) {
        problems.add(streamPort.protocol() + " port " + streamPort.port() + " has "
            + streamPort.listeners().size() + " listeners (expected: 1)");
      }
    }
    return problems;
  }
}
