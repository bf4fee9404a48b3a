package io.portico.ir;

import java.util.Objects;

/**
 * Identifies one upstream port of a backend, the key under which {@link EndpointsIndex} keeps its
 * ready endpoints. Routes hold keys, not addresses, so pod churn never touches the routes.
 *
 * @param kind {@code Service} or {@code Backend} (Envoy Gateway's gateway.envoyproxy.io kind)
 * @param namespace the backend's namespace
 * @param name the backend's name
 * @param port the Service port (not the targetPort) the route refers to; 0 for a {@code Backend},
 *     whose endpoints carry their own ports
 */
public record BackendKey(String kind, String namespace, String name, int port) {

  public static final String SERVICE = "Service";
  public static final String BACKEND = "Backend";

  public BackendKey {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
  }

  public static BackendKey service(String namespace, String name, int port) {
    return new BackendKey(SERVICE, namespace, name, port);
  }

  public static BackendKey backend(String namespace, String name) {
    return new BackendKey(BACKEND, namespace, name, 0);
  }

  @Override
  public String toString() {
    return kind + "/" + namespace + "/" + name + (port == 0 ? "" : ":" + port);
  }
}
