package io.portico.cli;

import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.portico.echo.EchoOptions;
import io.portico.echo.EchoServer;
import io.portico.resource.YamlResourceReader;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The quickstart's built-in echo backends: one for every loopback endpoint the quickstart's
 * EndpointSlices list, so the quickstart answers without any other process. Pod names come from
 * the endpoints' targetRefs.
 *
 * <p>They run on a Vert.x of their own rather than the gateway's, so that they can listen before
 * the gateway exists (see {@link Quickstart}) and outlive it while it shuts down.
 */
final class QuickstartBackends {

  private static final Logger LOG = LoggerFactory.getLogger(QuickstartBackends.class);

  /** Demo backends: one event loop is plenty, and leaves the cores to the gateway's loops. */
  private static final int EVENT_LOOPS = 1;

  private final Vertx vertx;
  private final int count;

  private QuickstartBackends(Vertx vertx, int count) {
    this.vertx = vertx;
    this.count = count;
  }

  /**
   * Starts the echo backends of {@code directory}'s EndpointSlices and returns once every one of
   * them listens. A port that cannot be bound is logged and skipped: the quickstart still runs,
   * and the routes to that endpoint answer 502.
   */
  static QuickstartBackends start(Path directory) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(EVENT_LOOPS));
    List<Future<EchoServer>> started = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (EndpointSlice slice : slices(directory)) {
      if (slice.getPorts() == null || slice.getEndpoints() == null) {
        continue;
      }
      for (Endpoint endpoint : slice.getEndpoints()) {
        String pod = endpoint.getTargetRef() == null || endpoint.getTargetRef().getName() == null
            ? slice.getMetadata().getName() : endpoint.getTargetRef().getName();
        for (String address : endpoint.getAddresses()) {
          if (!address.startsWith("127.")) {
            continue;
          }
          for (EndpointPort port : slice.getPorts()) {
            if (port.getPort() != null && seen.add(address + ":" + port.getPort())) {
              started.add(EchoServer.start(vertx, new EchoOptions(address, port.getPort(), pod,
                  slice.getMetadata().getNamespace())).onFailure(e -> LOG.warn(
                      "quickstart: no echo backend on {}:{}: {}", address, port.getPort(),
                      e.getMessage())));
            }
          }
        }
      }
    }
    try {
      Future.join(started).toCompletionStage().toCompletableFuture().get();
    } catch (Exception e) {
      // Reported per backend above.
    }
    return new QuickstartBackends(vertx,
        (int) started.stream().filter(Future::succeeded).count());
  }

  /** Returns how many echo backends listen. */
  int count() {
    return count;
  }

  /** Stops the echo backends; the future completes once their ports are released. */
  Future<Void> close() {
    return vertx.close();
  }

  private static List<EndpointSlice> slices(Path directory) {
    List<EndpointSlice> slices = new ArrayList<>();
    YamlResourceReader reader = new YamlResourceReader();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        reader.read(file.toString(), Files.readString(file)).objects().forEach(o -> {
          if (o.object() instanceof EndpointSlice slice) {
            slices.add(slice);
          }
        });
      }
    } catch (IOException e) {
      LOG.warn("quickstart: cannot read {}: {}", directory, e.getMessage());
    }
    return slices;
  }
}
