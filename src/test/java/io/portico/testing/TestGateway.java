package io.portico.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portico.KubernetesOptions;
import io.portico.Portico;
import io.portico.PorticoOptions;
import io.portico.provider.FileProvider;
import io.portico.proxy.ProxyOptions;
import io.portico.status.StatusWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * A real Portico process for tests: serves a temporary config directory on 127.0.0.1 with
 * listener ports bound as written (offset 0), two event loops, no admin API.
 */
public final class TestGateway implements AutoCloseable {

  private final Path directory;
  private final Portico portico;

  private TestGateway(Path directory, Portico portico) {
    this.directory = directory;
    this.portico = portico;
  }

  /** Writes {@code files} (name, YAML, name, YAML ...) into a new directory and serves it. */
  public static TestGateway start(Path directory, ProxyOptions proxy, String... files) {
    return start(directory, options -> options.withProxy(
        proxy.withBindHost("127.0.0.1").withPortOffset(0)), files);
  }

  /** Like {@link #start(Path, String...)}, with the options adjusted by {@code customize}. */
  public static TestGateway start(Path directory, UnaryOperator<PorticoOptions> customize,
      String... files) {
    for (int i = 0; i < files.length; i += 2) {
      write(directory, files[i], files[i + 1]);
    }
    PorticoOptions options = customize.apply(PorticoOptions.forDirectory(directory)
        .withProxy(ProxyOptions.DEFAULTS.withBindHost("127.0.0.1").withPortOffset(0))
        .withAdmin(null, 0)
        .withEventLoops(2)
        .withMetrics(false));
    return new TestGateway(directory, await(Portico.start(options).toCompletionStage()
        .toCompletableFuture()));
  }

  /**
   * Starts a gateway in Kubernetes mode against {@code client} (a mock API server), serving on
   * {@code bindHost} with ports as written; its status writer competes for the Lease
   * {@code default/portico} as {@code identity}, with short timings.
   */
  public static TestGateway startKubernetes(KubernetesClient client, String bindHost,
      String identity) {
    KubernetesOptions kubernetes = new KubernetesOptions(client,
        new StatusWriter.LeaseOptions("default", KubernetesOptions.LEASE_NAME, identity,
            Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(100)),
        FileProvider.Options.DEFAULTS);
    PorticoOptions options = PorticoOptions.forKubernetes(kubernetes)
        .withProxy(ProxyOptions.DEFAULTS.withBindHost(bindHost).withPortOffset(0))
        .withAdmin(null, 0)
        .withEventLoops(2)
        .withMetrics(false);
    return new TestGateway(null, await(Portico.start(options).toCompletionStage()
        .toCompletableFuture()));
  }

  public static TestGateway start(Path directory, String... files) {
    return start(directory, ProxyOptions.DEFAULTS, files);
  }

  public Portico portico() {
    return portico;
  }

  public long tableVersion() {
    return portico.state().table().version();
  }

  /**
   * Replaces a config file the way editors and ConfigMap mounts do (write aside, then rename),
   * so the provider never sees half a file.
   */
  public void replaceFile(String name, String yaml) {
    Path temp = directory.resolve("." + name + ".tmp");
    try {
      Files.writeString(temp, yaml);
      Files.move(temp, directory.resolve(name), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Overwrites a config file in place (what a careless editor does). */
  public void overwriteFile(String name, String content) {
    write(directory, name, content);
  }

  /** Waits until a routing table newer than {@code version} has been published. */
  public long awaitTableAfter(long version) {
    awaitCondition("routing table version > " + version, () -> tableVersion() > version);
    return tableVersion();
  }

  /** Waits (polling the published state, up to 10 s) until {@code condition} holds. */
  public static void awaitCondition(String what, BooleanSupplier condition) {
    awaitCondition(what, Duration.ofSeconds(10), condition);
  }

  /** As {@link #awaitCondition(String, BooleanSupplier)}, waiting up to {@code timeout}. */
  public static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    await(portico.close().toCompletionStage().toCompletableFuture());
  }

  /** Returns a TCP port that was free a moment ago. */
  public static int freePort() {
    // Ports below the kernel's ephemeral range (32768-60999 on Linux): an outgoing connection
    // of another test can take an ephemeral port between this check and the bind ("Address
    // already in use"), never one of these. Handed out in sequence, so one JVM never gets the
    // same port twice.
    for (int tries = 0; tries < 4 * PORT_SPAN; tries++) {
      int port = PORT_LOW + Math.floorMod(NEXT_PORT.getAndIncrement(), PORT_SPAN);
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException taken) {
        // In use (or in TIME_WAIT): try the next one.
      }
    }
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final int PORT_LOW = 20_000;
  private static final int PORT_SPAN = 12_000;
  private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
      new java.util.concurrent.atomic.AtomicInteger(
          java.util.concurrent.ThreadLocalRandom.current().nextInt(PORT_SPAN));

  static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
    try {
      return future.get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("operation failed: " + e, e);
    }
  }

  private static void write(Path directory, String name, String content) {
    try {
      Files.writeString(directory.resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
