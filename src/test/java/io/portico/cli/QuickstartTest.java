package io.portico.cli;

import io.portico.PorticoOptions;
import io.portico.proxy.ProxyOptions;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The quickstart answers from its very first request: its echo backends listen before the gateway
 * accepts a connection, so no request is proxied to a backend that is not there yet (502); and
 * closing it releases every port.
 */
class QuickstartTest {

  /** The quickstart's ports (Gateway listeners, EndpointSlice ports), replaced by free ones. */
  private static final List<Integer> QUICKSTART_PORTS = List.of(80, 443, 9001, 9002, 9011, 9021);
  private static final Set<String> WEB_PODS = Set.of("web-7d9f-abc12", "web-7d9f-def34");
  private static final Set<String> APP_PODS = Set.of("app-v1-5c6b-aaa11", "app-v2-8e1f-bbb22");
  private static final Pattern POD = Pattern.compile("\"pod\"\\s*:\\s*\"([^\"]+)\"");

  @Test
  void firstRequestsTheGatewayAcceptsAreAnsweredByTheEchoBackends(@TempDir Path directory)
      throws Exception {
    Map<Integer, Integer> ports = copyQuickstartWithFreePorts(directory);
    int http = ports.get(80);
    PorticoOptions options = PorticoOptions.forDirectory(directory)
        .withProxy(ProxyOptions.DEFAULTS.withBindHost("127.0.0.1").withPortOffset(0))
        .withAdmin(null, 0)
        .withEventLoops(2)
        .withMetrics(false);

    CompletableFuture<Quickstart> starting = CompletableFuture.supplyAsync(() -> {
      try {
        return Quickstart.start(options);
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    }, task -> new Thread(task, "quickstart-start").start());
    Quickstart quickstart = null;
    try {
      // The gateway proxies as soon as its listener port is bound, before start() returns: the
      // first requests go out the moment it accepts a connection, as a client retrying would
      // send them.
      assertEveryRouteAnswers(http, connectOnceListening(http, starting));
      quickstart = starting.get(30, TimeUnit.SECONDS);
      // And the first ones once start() has returned (the command then logs "Portico is
      // serving").
      assertEveryRouteAnswers(http, new Socket("127.0.0.1", http));
      assertThat(quickstart.backends()).isEqualTo(4);
    } finally {
      if (quickstart == null) {
        quickstart = starting.get(30, TimeUnit.SECONDS);
      }
      quickstart.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    for (int port : ports.values()) {
      assertThatExceptionOfType(ConnectException.class)
          .as("connecting to port %d after close", port)
          .isThrownBy(() -> new Socket("127.0.0.1", port).close());
    }
  }

  /**
   * Sends one request to each quickstart route, the first on {@code first}, and asserts that an
   * echo backend of the route answered each.
   */
  private static void assertEveryRouteAnswers(int port, Socket first) throws IOException {
    assertEchoedBy(WEB_PODS, exchange(first, "app.example.com", "/"));
    assertEchoedBy(APP_PODS, exchange(new Socket("127.0.0.1", port), "app.example.com", "/app"));
    assertEchoedBy(WEB_PODS, exchange(new Socket("127.0.0.1", port), "sticky.example.com", "/"));
  }

  /**
   * Copies examples/quickstart to {@code directory} with its listener and backend ports replaced
   * by free ones (listening on 127.0.0.1 only); returns the replacements by original port.
   */
  private static Map<Integer, Integer> copyQuickstartWithFreePorts(Path directory)
      throws IOException {
    Map<Integer, Integer> ports = new LinkedHashMap<>();
    QUICKSTART_PORTS.forEach(port -> ports.put(port, TestGateway.freePort()));
    Map<Integer, Integer> replaced = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(Path.of("examples", "quickstart"))) {
      for (Path file : files.toList()) {
        String yaml = Files.readString(file);
        for (Map.Entry<Integer, Integer> port : ports.entrySet()) {
          Matcher matcher = Pattern.compile("(?m)^(\\s*-?\\s*port: )" + port.getKey() + "$")
              .matcher(yaml);
          if (matcher.find()) {
            replaced.put(port.getKey(), port.getValue());
            yaml = matcher.replaceAll("$1" + port.getValue());
          }
        }
        Files.writeString(directory.resolve(file.getFileName()), yaml);
      }
    }
    // Fails here, rather than on a port in use, if the quickstart's ports change.
    assertThat(replaced).isEqualTo(ports);
    return ports;
  }

  /** Connects to {@code port} as soon as something listens there, while {@code starting} runs. */
  private static Socket connectOnceListening(int port, CompletableFuture<?> starting)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        return new Socket("127.0.0.1", port);
      } catch (ConnectException refused) {
        if (starting.isCompletedExceptionally() || System.nanoTime() > deadline) {
          starting.get(0, TimeUnit.SECONDS); // throws the cause of a failed start
          throw new AssertionError("nothing listens on port " + port);
        }
      }
    }
  }

  /** Sends GET {@code path} with Host {@code host} on {@code socket}; returns the whole answer. */
  private static String exchange(Socket socket, String host, String path) throws IOException {
    try (socket) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host
          + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      try (InputStream in = socket.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
  }

  private static void assertEchoedBy(Set<String> pods, String response) {
    assertThat(response).as("the answer").startsWith("HTTP/1.1 200 ");
    Matcher pod = POD.matcher(response);
    assertThat(pod.find()).as("an echo answer: %s", response).isTrue();
    assertThat(pods).contains(pod.group(1));
  }
}
