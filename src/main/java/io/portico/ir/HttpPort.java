package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;
import java.util.Objects;

/**
 * Everything served on one listener port of one address: the port is bound once, and each
 * request is handed to the listener whose hostname covers its Host most specifically.
 *
 * @param address the IP address to serve on; empty for the proxy's shared bind address
 *     (command line {@code --bind})
 * @param port the Gateway listener port as written in the Gateway (the proxy may bind it at an
 *     offset, see the command line's {@code --port-offset})
 * @param listeners the listeners sharing the port, at most one per hostname
 */
public record HttpPort(String address, int port, List<Listener> listeners,
    @JsonIgnore HostIndex<Listener> hostIndex) {

  public HttpPort(String address, int port, List<Listener> listeners) {
    this(address, port, List.copyOf(listeners),
        HostIndex.build(List.copyOf(listeners), Listener::hostname));
  }

  public HttpPort(int port, List<Listener> listeners) {
    this("", port, listeners);
  }

  public HttpPort {
    Objects.requireNonNull(address, "address");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
    listeners = List.copyOf(listeners);
    Objects.requireNonNull(hostIndex, "hostIndex");
  }

  /** Returns whether the port terminates TLS (its listeners are HTTPS). */
  @JsonIgnore
  public boolean tls() {
    return !listeners.isEmpty() && listeners.get(0).tls() != null;
  }

  /**
   * Returns how the port validates client certificates, or null. Listeners on one port belong
   * to one Gateway and share the port's validation.
   */
  @JsonIgnore
  public ClientValidation clientValidation() {
    return listeners.isEmpty() ? null : listeners.get(0).clientValidation();
  }

  /** Returns the listener for a request host name, or null when no listener covers it. */
  public Listener findListener(String host) {
    return hostIndex.find(host);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HttpPort other && other.address.equals(address) && other.port == port
        && other.listeners.equals(listeners);
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, port, listeners);
  }
}
