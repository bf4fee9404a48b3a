package io.portico.proxy.tcp;

import io.portico.echo.EchoOptions;
import io.portico.echo.TcpEchoServer;
import io.portico.echo.UdpEchoServer;
import io.portico.ir.StreamProtocol;
import io.portico.testing.StreamProbe;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.await;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.service;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * BackendTrafficPolicy on TCPRoutes and UDPRoutes over real sockets: source-IP hashing, active
 * health checks, circuitBreaker.maxConnections, and a SecurityPolicy that closes connections.
 */
class StreamPolicyEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final int port = TestGateway.freePort();
  private TestGateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    await(vertx.close().toCompletionStage().toCompletableFuture());
  }

  private int echo(String pod) {
    return await(TcpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, pod, "default"))
        .toCompletionStage().toCompletableFuture()).port();
  }

  /** A TCP gateway whose route "db" goes to Service "db" port 3000, with {@code policies}. */
  private String tcpConfig(String policies, int... endpoints) {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: tcp, protocol: TCP, port: %d}
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: db, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: tcp}]
          rules:
          - backendRefs: [{name: db, port: 3000}]
        ---
        """.formatted(port) + policies + service("default", "db", 3000, endpoints);
  }

  private static String policy(String settings) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: db, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: TCPRoute, name: db}
        %s
        ---
        """.formatted(settings.indent(2));
  }

  /** The pod that answers a TCP echo dialogue opened from {@code clientAddress}. */
  private String podFrom(String clientAddress) throws IOException {
    try (Socket socket = new Socket(InetAddress.getByName("127.0.0.1"), port,
        InetAddress.getByName(clientAddress), 0)) {
      socket.setSoTimeout(10_000);
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.UTF_8));
      if (in.readLine() == null) {
        throw new java.io.EOFException("closed before the welcome line");
      }
      socket.getOutputStream().write("TEST\n".getBytes(StandardCharsets.US_ASCII));
      return new JsonObject(in.readLine()).getString("pod");
    }
  }

  @Test
  void sourceIpHashingKeepsEveryConnectionOfAClientOnOneEndpoint() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", tcpConfig(
        policy("loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}"),
        echo("pod-a"), echo("pod-b")));

    for (String client : new String[] {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
      Set<String> pods = new HashSet<>();
      for (int i = 0; i < 8; i++) {
        pods.add(podFrom(client));
      }
      assertThat(pods).as("pods serving %s", client).hasSize(1);
    }
  }

  @Test
  void anEndpointFailingItsActiveTcpCheckGetsNoConnections() throws IOException {
    // Accepts connections but never answers: only a health check can tell.
    NetServer silent = vertx.createNetServer().connectHandler(socket -> { });
    int silentPort = await(silent.listen(0, "127.0.0.1").toCompletionStage()
        .toCompletableFuture()).actualPort();
    gateway = TestGateway.start(directory, "gateway.yaml", tcpConfig(policy("""
        healthCheck:
          active:
            type: TCP
            interval: 200ms
            timeout: 200ms
            unhealthyThreshold: 1
            healthyThreshold: 1
            tcp:
              send: {type: Text, text: "PING\\n"}
              receive: {type: Text, text: PONG}
        """), echo("healthy-pod"), silentPort));

    TestGateway.awaitCondition("the silent endpoint is left out", () -> {
      for (int i = 0; i < 6; i++) {
        try {
          if (!"healthy-pod".equals(StreamProbe.tcp(port, 1_000).pod())) {
            return false;
          }
        } catch (IOException silentEndpoint) {
          return false;
        }
      }
      return true;
    });
    for (int i = 0; i < 10; i++) {
      assertThat(StreamProbe.tcp(port).pod()).isEqualTo("healthy-pod");
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void anEndpointRefusingConnectionsIsEjectedWithoutFailingAClient() throws IOException {
    int refusing = TestGateway.freePort(); // nothing listens there
    gateway = TestGateway.start(directory, "gateway.yaml", tcpConfig(policy("""
        healthCheck:
          passive: {consecutive5XxErrors: 2, interval: 100ms, baseEjectionTime: 30s}
        """), echo("pod-a"), echo("pod-b"), refusing));

    Set<String> pods = new HashSet<>();
    for (int i = 0; i < 12; i++) {
      // A refused connect is tried once more on another endpoint: no client sees it.
      pods.add(StreamProbe.tcp(port).pod());
    }
    assertThat(pods).containsExactlyInAnyOrder("pod-a", "pod-b");
    var described = (java.util.Map<String, Object>) io.portico.health.HealthRegistry
        .of(gateway.portico().vertx()).describe().get("Service/default/db:3000");
    assertThat((java.util.List<java.util.Map<String, Object>>) described.get("endpoints"))
        .filteredOn(endpoint -> endpoint.get("endpoint").equals("127.0.0.1:" + refusing))
        .singleElement().extracting(endpoint -> endpoint.get("state")).isEqualTo("Ejected");
  }

  @Test
  void connectionsPastMaxConnectionsAreClosedAndCounted() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml",
        tcpConfig(policy("circuitBreaker: {maxConnections: 1}"), echo("pod-a")));

    try (Socket first = new Socket("127.0.0.1", port)) {
      first.setSoTimeout(10_000);
      assertThat(new BufferedReader(new InputStreamReader(first.getInputStream(),
          StandardCharsets.UTF_8)).readLine()).as("welcome line").isNotNull();
      try (Socket second = new Socket("127.0.0.1", port)) {
        second.setSoTimeout(10_000);
        assertThat(second.getInputStream().read()).as("closed at once").isEqualTo(-1);
      }
      TestGateway.awaitCondition("overflow counted", () -> gateway.portico().streamMetrics()
          .total(StreamProtocol.TCP, "overflow") == 1);
    }
    TestGateway.awaitCondition("a connection is admitted again", () -> {
      try {
        return "pod-a".equals(StreamProbe.tcp(port).pod());
      } catch (IOException stillCounted) {
        return false;
      }
    });
  }

  @Test
  void aSecurityPolicyPorticoCannotEnforceClosesTheConnections() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", tcpConfig("""
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: SecurityPolicy
        metadata: {name: db, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: TCPRoute, name: db}
          authorization: {defaultAction: Deny}
        ---
        """, echo("pod-a")));

    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      assertThat(socket.getInputStream().read()).isEqualTo(-1);
    }
    TestGateway.awaitCondition("counted", () -> gateway.portico().streamMetrics()
        .total(StreamProtocol.TCP, "security_policy_not_enforced") == 1);
  }

  @Test
  void udpSessionsOfOneClientAddressStayOnOneEndpointWithSourceIpHashing() throws IOException {
    int a = await(UdpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, "pod-a", "default"),
        "dns").toCompletionStage().toCompletableFuture()).port();
    int b = await(UdpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, "pod-b", "default"),
        "dns").toCompletionStage().toCompletableFuture()).port();
    gateway = TestGateway.start(directory, "gateway.yaml", GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: udp, protocol: UDP, port: %1$d}
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: UDPRoute
        metadata: {name: dns, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: udp}]
          rules:
          - backendRefs: [{name: dns, port: 8080}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: dns, namespace: default}
        spec:
          targetRef: {group: gateway.networking.k8s.io, kind: UDPRoute, name: dns}
          sessionAffinity: {type: SourceIP}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: dns, namespace: default}
        spec:
          ports: [{name: udp, port: 8080, protocol: UDP, targetPort: udp}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: dns
          namespace: default
          labels: {kubernetes.io/service-name: dns}
        addressType: IPv4
        ports: [{name: udp, port: %2$d, protocol: UDP}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: dns-b
          namespace: default
          labels: {kubernetes.io/service-name: dns}
        addressType: IPv4
        ports: [{name: udp, port: %3$d, protocol: UDP}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        ---
        """.formatted(port, a, b));

    Set<String> pods = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      // A new session (a new client port) each time, from the same address.
      try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(5_000);
        byte[] bytes = ("hello " + i).getBytes(StandardCharsets.US_ASCII);
        socket.send(new DatagramPacket(bytes, bytes.length));
        DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
        socket.receive(reply);
        pods.add(new JsonObject(new String(reply.getData(), 0, reply.getLength(),
            StandardCharsets.UTF_8)).getString("pod"));
      }
    }
    assertThat(pods).hasSize(1);
  }
}
