package io.portico.proxy.tcp;

import io.portico.bus.Addresses;
import io.portico.bus.LocalCodec;
import io.portico.bus.ProxyState;
import io.portico.bus.Versioned;
import io.portico.echo.EchoOptions;
import io.portico.echo.UdpEchoServer;
import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.ir.SourceRef;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.ir.StreamProtocol;
import io.portico.ir.StreamRoute;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.ProxyOptions;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.await;
import static org.assertj.core.api.Assertions.assertThat;

/** UDP listeners with UDPRoutes over real datagram sockets, with UDP echo backends. */
class UdpRouteEndToEndTest {

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

  private int echo(String pod, String service) {
    return await(UdpEchoServer.start(vertx, new EchoOptions("127.0.0.1", 0, pod, "default"),
        service).toCompletionStage().toCompletableFuture()).port();
  }

  private static String udpService(String name, int backendPort) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: default}
        spec:
          ports: [{name: udp, port: 8080, protocol: UDP, targetPort: udp}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %1$s
          namespace: default
          labels: {kubernetes.io/service-name: %1$s}
        addressType: IPv4
        ports: [{name: udp, port: %2$d, protocol: UDP}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        ---
        """.formatted(name, backendPort);
  }

  private String gatewayYaml(String backendRefs) {
    return GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: udp, protocol: UDP, port: %d}
        ---
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: UDPRoute
        metadata: {name: dns, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: udp}]
          rules:
          - backendRefs: %s
        ---
        """.formatted(port, backendRefs);
  }

  /** Sends one datagram from {@code socket} (connected to the gateway) and reads the reply. */
  private static JsonObject exchange(DatagramSocket socket, String payload) throws IOException {
    byte[] bytes = payload.getBytes(StandardCharsets.US_ASCII);
    socket.send(new DatagramPacket(bytes, bytes.length));
    DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
    socket.receive(reply);
    return new JsonObject(new String(reply.getData(), 0, reply.getLength(),
        StandardCharsets.UTF_8));
  }

  private DatagramSocket client() throws IOException {
    DatagramSocket socket = new DatagramSocket();
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    socket.setSoTimeout(2_000);
    return socket;
  }

  @Test
  void clientsAreSplitByWeightAndEachKeepsItsBackend() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml",
        gatewayYaml("[{name: heavy, port: 8080, weight: 3}, {name: light, port: 8080, weight: 1}]")
            + udpService("heavy", echo("heavy-pod", "heavy"))
            + udpService("light", echo("light-pod", "light")));

    Map<String, Integer> pods = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      try (DatagramSocket socket = client()) {
        JsonObject first = exchange(socket, "hello " + i);
        assertThat(first.getString("request")).isEqualTo("hello " + i);
        // The connected socket only accepts replies from the gateway's address and port.
        assertThat(exchange(socket, "again").getString("pod")).isEqualTo(first.getString("pod"));
        pods.merge(first.getString("pod"), 1, Integer::sum);
      }
    }

    assertThat(pods.keySet()).containsExactlyInAnyOrder("heavy-pod", "light-pod");
    assertThat(pods.get("heavy-pod")).isBetween(26, 34);
  }

  @Test
  void aRouteWithoutBackendsDropsDatagramsAndCountsThem() throws IOException {
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml("[{name: nowhere, port: 8080}]"));

    try (DatagramSocket socket = client()) {
      byte[] bytes = "lost".getBytes(StandardCharsets.US_ASCII);
      socket.send(new DatagramPacket(bytes, bytes.length));
    }
    TestGateway.awaitCondition("invalid_backend counted", () -> gateway.portico()
        .streamMetrics().total(StreamProtocol.UDP, "invalid_backend") == 1);
  }

  @Test
  void idleSessionsExpireAndTheTableIsBounded() throws IOException {
    LocalCodec.registerAll(vertx);
    int backend = echo("pod", "svc");
    BackendKey key = BackendKey.service("default", "svc", 8080);
    RoutingTable table = new RoutingTable(List.of(), List.of(new StreamPort("", port,
        StreamProtocol.UDP, List.of(new StreamListener("udp", new SourceRef("Gateway", "default",
            "gw", "udp"), null, null, List.of(new StreamRoute("r", new SourceRef("UDPRoute",
            "default", "r", ""), List.of("*"), BackendGroup.of("r",
            List.of(WeightedBackend.of("b", 1, key))))))))));
    EndpointsIndex endpoints = new EndpointsIndex(Map.of(key,
        List.of(new Endpoint("127.0.0.1", backend))));
    vertx.eventBus().<Object>localConsumer(Addresses.CURRENT_STATE, message -> message.reply(
        new ProxyState(new Versioned<>(1, table), new Versioned<>(1, endpoints))));
    StreamMetrics metrics = new StreamMetrics(null);
    UdpProxyVerticle proxy = new UdpProxyVerticle(
        ProxyOptions.DEFAULTS.withBindHost("127.0.0.1").withPortOffset(0), metrics, 200, 1);
    await(vertx.deployVerticle(proxy).toCompletionStage().toCompletableFuture());

    try (DatagramSocket first = client(); DatagramSocket second = client()) {
      assertThat(exchange(first, "one").getString("pod")).isEqualTo("pod");
      // The table holds one session: a second client is dropped (and counted) meanwhile.
      byte[] bytes = "two".getBytes(StandardCharsets.US_ASCII);
      second.send(new DatagramPacket(bytes, bytes.length));
      TestGateway.awaitCondition("session_limit counted",
          () -> metrics.total(StreamProtocol.UDP, "session_limit") == 1);

      TestGateway.awaitCondition("the idle session expired", () -> await(proxy.sessions()
          .toCompletionStage().toCompletableFuture()) == 0);
      assertThat(exchange(second, "two again").getString("pod")).isEqualTo("pod");
    }
  }
}
