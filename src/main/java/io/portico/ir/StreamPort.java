package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;
import java.util.Objects;

/**
 * One listener port of one address served below HTTP (Gateway listener protocol TLS, TCP or
 * UDP): the port is bound once and each connection (or UDP client) is handed to one listener.
 *
 * @param address the IP address to serve on; empty for the proxy's shared bind address
 *     (command line {@code --bind})
 * @param port the Gateway listener port as written in the Gateway (the proxy may bind it at an
 *     offset, see the command line's {@code --port-offset})
 * @param protocol what the port speaks; all its listeners share it (the translator reports
 *     {@code ProtocolConflict} otherwise)
 * @param listeners the listeners sharing the port: for TLS at most one per hostname, chosen by
 *     the SNI name most specifically; for TCP and UDP exactly one
 * @param listenerIndex the listeners by hostname (derived from {@code listeners})
 */
public record StreamPort(String address, int port, StreamProtocol protocol,
    List<StreamListener> listeners, @JsonIgnore HostIndex<StreamListener> listenerIndex) {

  public StreamPort(String address, int port, StreamProtocol protocol,
      List<StreamListener> listeners) {
    this(address, port, protocol, List.copyOf(listeners),
        HostIndex.build(List.copyOf(listeners), StreamListener::hostname));
  }

  public StreamPort {
    Objects.requireNonNull(address, "address");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
    Objects.requireNonNull(protocol, "protocol");
    listeners = List.copyOf(listeners);
    Objects.requireNonNull(listenerIndex, "listenerIndex");
  }

  /**
   * Returns the listener for a connection's SNI name ({@code ""} or null when the client sent
   * none; TCP and UDP ports have one listener without hostname), or null when none covers it.
   */
  public StreamListener findListener(String serverName) {
    return listenerIndex.find(serverName == null ? "" : serverName);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StreamPort other && other.address.equals(address) && other.port == port
        && other.protocol == protocol && other.listeners.equals(listeners);
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, port, protocol, listeners);
  }
}
