package io.portico.proxy.tcp;

import io.portico.testing.ByteStreams;
import io.portico.testing.EchoFleet;
import io.portico.testing.TestBytes;
import io.portico.testing.TestGateway;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static io.portico.proxy.tcp.TlsPassthroughEndToEndTest.GATEWAY_CLASS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TCPRoute's streams arrive whole, byte for byte: many at once, to clients that read slowly
 * from backends that close right after their last byte, and to clients that leave halfway.
 */
class TcpStreamEndToEndTest {

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private TestGateway gateway;
  private int tcpPort;

  @BeforeEach
  void start() throws Exception {
    NetServer backend = vertx.createNetServer().connectHandler(this::stream);
    int backendPort = backend.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    fleet.serviceAt("default", "streams", backendPort, true);
    tcpPort = TestGateway.freePort();
    gateway = TestGateway.start(directory, "gateway.yaml", GATEWAY_CLASS + """
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
        metadata: {name: streams, namespace: default}
        spec:
          parentRefs: [{name: gw, sectionName: tcp}]
          rules: [{backendRefs: [{name: streams, port: 80}]}]
        """.formatted(tcpPort), "backends.yaml", fleet.yaml());
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    TestGateway.awaitCondition("vertx closed", () -> {
      vertx.close();
      return true;
    });
    fleet.close();
  }

  @Test
  void streamsArriveWholeFromClosingBackendsToSlowAndLeavingClients() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(11);
    try {
      List<java.util.concurrent.Future<byte[]>> streams = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        int seed = i;
        int size = 1_000 + seed * 97_531;
        streams.add(clients.submit(() -> readStream(seed, size, Integer.MAX_VALUE, false)));
      }
      for (int i = 0; i < 3; i++) {
        int seed = 200 + i;
        // Slow readers of streams larger than the kernel's socket buffers: their backend closes
        // while the gateway has paused reading it (Vert.x reports that end before the last
        // bytes it held back).
        streams.add(clients.submit(() -> readStream(seed, 12_000_000, Integer.MAX_VALUE, true)));
      }
      for (int i = 0; i < 8; i++) {
        int seed = 100 + i;
        // Clients that leave after 100 KB of a 5 MB stream.
        streams.add(clients.submit(() -> readStream(seed, 5_000_000, 100_000, false)));
      }
      for (int i = 0; i < 24; i++) {
        assertThat(streams.get(i).get(30, TimeUnit.SECONDS))
            .as("stream " + i).isEqualTo(TestBytes.of(i, 1_000 + i * 97_531));
      }
      for (int i = 0; i < 8; i++) {
        byte[] start = streams.get(27 + i).get(30, TimeUnit.SECONDS);
        assertThat(start).isEqualTo(java.util.Arrays.copyOf(TestBytes.of(100 + i, 5_000_000),
            start.length));
      }
      for (int i = 0; i < 3; i++) {
        assertThat(streams.get(24 + i).get(60, TimeUnit.SECONDS))
            .as("slow stream " + i).isEqualTo(TestBytes.of(200 + i, 12_000_000));
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /**
   * Asks the stream backend through the TCP listener for {@code size} bytes and reads up to
   * {@code most} of them, {@code slowly} (a pause every 16 KiB) or at once.
   */
  private byte[] readStream(int seed, int size, int most, boolean slowly) throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), tcpPort)) {
      socket.setReceiveBufferSize(16_384);
      return ByteStreams.ask(socket, seed, size, most, slowly);
    }
  }

  /**
   * The stream backend: answers a line {@code "<seed> <size>"} with {@link TestBytes#of} and
   * closes.
   */
  private void stream(NetSocket socket) {
    Buffer line = Buffer.buffer();
    socket.handler(bytes -> {
      if (ByteStreams.answer(socket, line.appendBuffer(bytes))) {
        socket.handler(null);
      }
    });
    socket.exceptionHandler(e -> socket.close());
  }
}
