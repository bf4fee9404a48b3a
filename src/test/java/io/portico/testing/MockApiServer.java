package io.portico.testing;

import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.CountDownLatch;

/**
 * fabric8's CRUD mock API server as a process of its own, for bench/scale.py's Kubernetes mode:
 * the Gateway API and Envoy Gateway kinds Portico reads are served (listed by discovery, with a
 * status subresource), objects live in memory, watches work. Not a test: a tool run with the
 * test classpath.
 *
 * <pre>java -cp target/test-classes:target/classes:DEPS io.portico.testing.MockApiServer PORT KUBECONFIG</pre>
 *
 * Writes a kubeconfig for {@code http://127.0.0.1:PORT} to KUBECONFIG, prints {@code ready} and
 * serves until killed.
 */
public final class MockApiServer {

  /** Held: java.util.logging forgets a logger's level once nothing references it. */
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  private MockApiServer() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: MockApiServer PORT KUBECONFIG");
      System.exit(2);
    }
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    int port = Integer.parseInt(args[0]);
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(),
        new HashMap<>(), new KubernetesCrudDispatcher(), false);
    String gatewayApi = "gateway.networking.k8s.io";
    String envoy = "gateway.envoyproxy.io";
    register(server, gatewayApi, "v1", "GatewayClass", "gatewayclasses", false);
    register(server, gatewayApi, "v1", "Gateway", "gateways", true);
    register(server, gatewayApi, "v1", "HTTPRoute", "httproutes", true);
    register(server, gatewayApi, "v1", "ReferenceGrant", "referencegrants", true);
    register(server, gatewayApi, "v1", "BackendTLSPolicy", "backendtlspolicies", true);
    register(server, envoy, "v1alpha1", "BackendTrafficPolicy", "backendtrafficpolicies", true);
    register(server, envoy, "v1alpha1", "Backend", "backends", true);
    server.init(InetAddress.getByName("127.0.0.1"), port);
    Files.writeString(Path.of(args[1]), """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster: {server: "http://127.0.0.1:%d"}
        contexts:
        - name: mock
          context: {cluster: mock, namespace: default, user: mock}
        users:
        - name: mock
          user: {token: mock}
        current-context: mock
        """.formatted(port));
    System.out.println("ready");
    System.out.flush();
    new CountDownLatch(1).await();
  }

  private static void register(KubernetesMockServer server, String group, String version,
      String kind, String plural, boolean namespaced) {
    server.expectCustomResource(new CustomResourceDefinitionContext.Builder()
        .withName(plural + "." + group)
        .withGroup(group)
        .withVersion(version)
        .withKind(kind)
        .withPlural(plural)
        .withScope(namespaced ? "Namespaced" : "Cluster")
        .withStatusSubresource(true)
        .build());
  }
}
