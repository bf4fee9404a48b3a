package io.portico.ir;

import java.util.Objects;

/**
 * One ready upstream address traffic can be sent to: a pod IP and its target port, or the host
 * name and port of an Envoy Gateway {@code Backend} FQDN endpoint.
 *
 * @param host an IPv4/IPv6 literal or a DNS name
 * @param port the TCP port on that host (1-65535)
 */
public record Endpoint(String host, int port) {

  public Endpoint {
    Objects.requireNonNull(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
