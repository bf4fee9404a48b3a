package io.portico.proxy;

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

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static io.portico.proxy.ProxyEndToEndTest.route;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An upgraded connection (WebSocket and the like) is a tunnel whose bytes arrive whole: many at
 * once, to clients that read slowly from backends that close right after their last byte, and
 * to clients that leave halfway.
 */
class UpgradeTunnelEndToEndTest {

  private static final String UPGRADE = "GET /tunnel HTTP/1.1\r\nHost: app.example.com\r\n"
      + "Connection: Upgrade\r\nUpgrade: byte-stream\r\n\r\n";

  @TempDir
  Path directory;

  private final Vertx vertx = Vertx.vertx();
  private final EchoFleet fleet = new EchoFleet();
  private final int port = TestGateway.freePort();
  private TestGateway gateway;

  @BeforeEach
  void start() throws Exception {
    NetServer backend = vertx.createNetServer().connectHandler(this::upgradeThenStream);
    int backendPort = backend.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    fleet.serviceAt("default", "streams", backendPort, true);
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route("app", "app.example.com", """
            - backendRefs: [{name: streams, port: 80}]
            """));
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
  void tunnelsArriveWholeFromClosingBackendsToSlowAndLeavingClients() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(11);
    try {
      List<Future<byte[]>> streams = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        int seed = i;
        streams.add(clients.submit(() -> readTunnel(seed, 1_000 + seed * 97_531,
            Integer.MAX_VALUE, false)));
      }
      for (int i = 0; i < 3; i++) {
        int seed = 200 + i;
        // Slow readers of answers larger than the kernel's socket buffers: their backend
        // closes while the gateway has paused reading it.
        streams.add(clients.submit(() -> readTunnel(seed, 12_000_000, Integer.MAX_VALUE, true)));
      }
      for (int i = 0; i < 6; i++) {
        int seed = 100 + i;
        // Clients that leave after 100 KB of 5 MB.
        streams.add(clients.submit(() -> readTunnel(seed, 5_000_000, 100_000, false)));
      }
      for (int i = 0; i < 16; i++) {
        assertSameBytes("tunnel " + i, streams.get(i).get(30, TimeUnit.SECONDS),
            TestBytes.of(i, 1_000 + i * 97_531));
      }
      for (int i = 0; i < 6; i++) {
        byte[] start = streams.get(19 + i).get(30, TimeUnit.SECONDS);
        assertSameBytes("start of tunnel " + (19 + i), start,
            Arrays.copyOf(TestBytes.of(100 + i, 5_000_000), start.length));
      }
      for (int i = 0; i < 3; i++) {
        assertSameBytes("slow tunnel " + i, streams.get(16 + i).get(60, TimeUnit.SECONDS),
            TestBytes.of(200 + i, 12_000_000));
      }
      // The gateway still serves upgrades after all of that.
      assertSameBytes("tunnel after", readTunnel(7, 70_000, Integer.MAX_VALUE, false),
          TestBytes.of(7, 70_000));
    } finally {
      clients.shutdownNow();
    }
  }

  /**
   * Upgrades a connection through the gateway, asks the backend for {@code size} bytes and
   * reads up to {@code most} of them, {@code slowly} (a pause every 16 KiB) or at once.
   */
  private byte[] readTunnel(int seed, int size, int most, boolean slowly) throws Exception {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setReceiveBufferSize(16_384);
      socket.getOutputStream().write(UPGRADE.getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      assertThat(readHead(in)).startsWith("HTTP/1.1 101");
      return ByteStreams.ask(socket, seed, size, most, slowly);
    }
  }

  /** Compares by length and first difference: a 12 MB array in a failure message says nothing. */
  private static void assertSameBytes(String name, byte[] actual, byte[] expected) {
    assertThat(actual.length).as(name + ": bytes received").isEqualTo(expected.length);
    assertThat(Arrays.mismatch(actual, expected)).as(name + ": first wrong byte").isEqualTo(-1);
  }

  /** Reads a response head byte by byte, so that nothing after it is consumed. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (head.size() < 4 || !head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * The backend: answers the upgrade with 101, then a line {@code "<seed> <size>"} with
   * {@link TestBytes#of}, and closes.
   */
  private void upgradeThenStream(NetSocket socket) {
    Buffer[] received = {Buffer.buffer()};
    boolean[] upgraded = {false};
    socket.handler(bytes -> {
      received[0].appendBuffer(bytes);
      if (!upgraded[0]) {
        int headEnd = received[0].toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
        if (headEnd < 0) {
          return;
        }
        upgraded[0] = true;
        socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
            + "Upgrade: byte-stream\r\n\r\n");
        received[0] = received[0].getBuffer(headEnd + 4, received[0].length());
      }
      if (ByteStreams.answer(socket, received[0])) {
        socket.handler(null);
      }
    });
    socket.exceptionHandler(e -> socket.close());
  }
}
