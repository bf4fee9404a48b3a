package io.portico.testing;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoServer;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * Echo backends ("pods") on 127.0.0.1 for end-to-end tests, with the YAML of a Service and an
 * EndpointSlice per pod so the gateway can find them the way it would in a cluster.
 */
public final class EchoFleet implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  private final List<EchoServer> servers = new ArrayList<>();
  private final StringBuilder yaml = new StringBuilder();

  /** Starts {@code pods} echo servers named {@code <service>-pod-<i>} behind a Service on port 80. */
  public EchoFleet service(String namespace, String service, int pods) {
    yaml.append("""
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s}
        spec:
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """.formatted(service, namespace));
    for (int i = 0; i < pods; i++) {
      String pod = service + "-pod-" + i;
      EchoServer server = TestGateway.await(EchoServer.start(vertx,
          new EchoOptions("127.0.0.1", 0, pod, namespace)).toCompletionStage().toCompletableFuture());
      servers.add(server);
      yaml.append(endpointSlice(namespace, service, pod, server.port(), true));
    }
    return this;
  }

  /** Adds a Service whose only endpoint is {@code port} on 127.0.0.1 (ready or not). */
  public EchoFleet serviceAt(String namespace, String service, int port, boolean ready) {
    yaml.append("""
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s}
        spec:
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """.formatted(service, namespace));
    yaml.append(endpointSlice(namespace, service, service + "-pod", port, ready));
    return this;
  }

  private static String endpointSlice(String namespace, String service, String pod, int port,
      boolean ready) {
    return """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s
          namespace: %s
          labels: {kubernetes.io/service-name: %s}
        addressType: IPv4
        ports: [{name: http, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: %s}
          targetRef: {kind: Pod, name: %s, namespace: %s}
        ---
        """.formatted(pod, namespace, service, port, ready, pod, namespace);
  }

  /** The Services and EndpointSlices of every backend added so far. */
  public String yaml() {
    return yaml.toString();
  }

  public List<EchoServer> servers() {
    return servers;
  }

  @Override
  public void close() {
    TestGateway.await(vertx.close().toCompletionStage().toCompletableFuture());
  }
}
