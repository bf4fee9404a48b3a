package io.portico.testing;

import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.lang.reflect.Field;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
 *
 * <p>One difference from fabric8's mock as it comes: a watch that starts from a resourceVersion
 * (what an informer does after its list) gets only the changes made after it opened, as from a
 * real API server. fabric8's mock sends every stored object again as ADDED to every watch, so at
 * 10,000 routes each informer's start made the mock serialize, and Portico deserialize, every
 * object twice, competing with Portico's first translation for the CPU: a cost a real cluster
 * does not have. (A change made between the list and the watch is not replayed either; the bench
 * changes nothing then.)
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
        new HashMap<>(), new WatchFromVersionDispatcher(), false);
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

  /** See the class comment. */
  private static final class WatchFromVersionDispatcher extends KubernetesCrudDispatcher {

    private static final Pattern RESOURCE_VERSION = Pattern.compile("[?&]resourceVersion=([^&]+)");
    private static final Field ON_OPEN_ACTION = onOpenAction();

    @Override
    public MockResponse handleWatch(String path) {
      MockResponse response = super.handleWatch(path);
      Matcher version = RESOURCE_VERSION.matcher(path);
      WebSocketListener listener = response.getWebSocketListener();
      // resourceVersion=0 (or none) asks for the current state first, as ADDED events.
      if (version.find() && !version.group(1).equals("0") && listener != null) {
        try {
          Consumer<Object> nothingToReplay = watch -> { };
          ON_OPEN_ACTION.set(listener, nothingToReplay);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
      return response;
    }

    private static Field onOpenAction() {
      try {
        Field field = Class.forName(
            "io.fabric8.kubernetes.client.server.mock.WatchEventsListener")
            .getDeclaredField("onOpenAction");
        field.setAccessible(true);
        return field;
      } catch (ClassNotFoundException | NoSuchFieldException e) {
        throw new IllegalStateException("fabric8's mock changed: " + e.getMessage(), e);
      }
    }
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
