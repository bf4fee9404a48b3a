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
   * Returns whether {@code httpPort} shares its port with TLS listeners: the stream proxy then
   * owns the socket, reads each connection's SNI name, and hands the connections of the HTTPS
   * listeners to the HTTP proxy's internal server for the port (see
   * {@link StreamListener#https()}).
   */
  public boolean sharedWithTls(HttpPort httpPort) {
    for (StreamPort streamPort : streamPorts) {
      if (streamPort.protocol() == StreamProtocol.TLS && streamPort.port() == httpPort.port()
          && streamPort.address().equals(httpPort.address())) {
        return true;
      }
    }
    return false;
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
      HttpPort shared = streamPort.protocol() == StreamProtocol.TLS
          ? httpPort(streamPort.address(), streamPort.port()) : null;
      long handedOff = streamPort.listeners().stream().filter(StreamListener::https).count();
      if (shared != null && shared.tls() && handedOff == shared.listeners().size()) {
        continue; // HTTPS and TLS listeners on one port: the stream proxy hands HTTPS over.
      }
      if (handedOff > 0) {
        problems.add("tls port " + streamPort.port() + " on '" + streamPort.address() + "' has "
            + handedOff + " HTTPS listeners but the HTTPS port has "
            + (shared == null ? "none" : shared.listeners().size()));
      }
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
