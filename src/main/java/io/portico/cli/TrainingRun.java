package io.portico.cli;

import io.portico.Portico;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.proxy.ProxyOptions;
import io.portico.proxy.tls.TlsEngines;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one request to each listener port of a running gateway, so that a training run
 * ({@code --exit-when-ready} under {@code -XX:ArchiveClassesAtExit}) loads the classes of the
 * request path, TLS included, and the class-data archive holds them: a gateway started with the
 * archive is ready in about a third of the time (measured in bench/, see README). A TLS port also
 * gets an HTTP/2 request (ALPN h2), so the archive holds both protocols' classes; the quickstart
 * has an HTTPS listener for this. Answers are not checked: a 404 loads the same classes. Then
 * {@link #exerciseChanges} changes the configuration, so the change paths are archived too.
 */
final class TrainingRun {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

  /** The file of {@link #ROUTE} that {@link #exerciseChanges} writes, then removes. */
  static final String ROUTE_FILE = "training-route.yaml";
  /** The file of {@link #SLICE} that {@link #exerciseChanges} writes, changes, then removes. */
  static final String SLICE_FILE = "training-endpoints.yaml";

  /**
   * A route as an operator would add one, to a Service of the quickstart, with the filters the
   * quickstart has none of (their model and translation are archived too).
   */
  static final String ROUTE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: training-change, namespace: default}
      spec:
        parentRefs: [{name: public-gateway, namespace: gateway-system}]
        hostnames: [change.training.local]
        rules:
        - matches: [{path: {type: PathPrefix, value: /old}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}
        - matches: [{path: {type: PathPrefix, value: /}, headers: [{name: x-training, value: "on"}]}]
          filters:
          - type: RequestHeaderModifier
            requestHeaderModifier: {set: [{name: x-training, value: "1"}], remove: [x-drop]}
          - type: ResponseHeaderModifier
            responseHeaderModifier: {add: [{name: x-served-by, value: portico}]}
          - type: URLRewrite
            urlRewrite: {hostname: web.training.local, path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
          backendRefs: [{name: web-service, port: 8080}]
        - backendRefs: [{name: web-service, port: 8080}]
      """;

  /**
   * A pod of that Service (on a port nothing listens on: no request goes there), ready or
   * terminating: endpoint-only changes.
   */
  static final String SLICE = """
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata:
        name: web-service-training
        namespace: default
        labels: {kubernetes.io/service-name: web-service}
      addressType: IPv4
      ports: [{name: http, port: 9}]
      endpoints:
      - addresses: [127.0.0.1]
        conditions: {ready: %s, serving: true, terminating: %s}
      """;

  private TrainingRun() {
  }

  /**
   * Copies {@code config} (its subdirectories too, as the file provider reads them) to a new
   * temporary directory, deleted when the JVM exits, so that {@link #exerciseChanges} never
   * touches the directory it was given (during {@code mvn package}, the repository's
   * {@code examples/quickstart}).
   */
  static Path scratchCopy(Path config) {
    try {
      Path copy = Files.createTempDirectory("portico-training");
      copy.toFile().deleteOnExit();
      try (Stream<Path> tree = Files.walk(config)) {
        // Parents come before their children, so deleteOnExit (last registered, first
        // deleted) empties each directory before it deletes it.
        for (Path source : tree.filter(path -> !path.equals(config)).toList()) {
          Path target = copy.resolve(config.relativize(source).toString());
          if (Files.isDirectory(source)) {
            Files.createDirectories(target);
          } else {
            Files.copy(source, target);
          }
          target.toFile().deleteOnExit();
        }
      }
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + config + " for the training run", e);
    }
  }

  /**
   * Changes the served configuration as an operator would once the gateway serves: a new route,
   * a pod added to a Service and then terminating (endpoint-only changes), both removed;
   * each waited for until the gateway has published it. So the archive also holds the classes
   * of the change paths (the directory watcher's rescan, incremental translation, the endpoint
   * fast path, the tables' swap) and their lambdas: without them the first route change after a
   * start loaded 34 classes (26 not archived) and the first endpoint change 36 (33 not
   * archived), while a client waited for them. {@code config} must be a
   * {@link #scratchCopy}. A change not seen within 5 s only means a smaller archive. Returns how
   * many of the four changes were published.
   */
  static int exerciseChanges(Portico portico, Path config) {
    Path route = config.resolve(ROUTE_FILE);
    Path slice = config.resolve(SLICE_FILE);
    route.toFile().deleteOnExit();
    slice.toFile().deleteOnExit();
    LongSupplier table = () -> portico.state().table().version();
    LongSupplier endpoints = () -> portico.state().endpoints().version();
    int published = 0;
    try {
      if (awaitChange(table, () -> write(route, ROUTE))
          && awaitChange(endpoints, () -> write(slice, SLICE.formatted(true, false)))
          && awaitChange(endpoints, () -> write(slice, SLICE.formatted(false, true)))) {
        published = 3;
      }
      Files.deleteIfExists(slice);
      if (awaitChange(table, () -> Files.deleteIfExists(route))) {
        published++;
      }
    } catch (IOException e) {
      LOG.warn("the change part of the training run failed (the archive holds less): {}",
          e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return published;
  }

  private interface Change {
    void make() throws IOException;
  }

  /**
   * Makes {@code change}, then waits up to 5 s for {@code version} to move; false (logged) when
   * it did not.
   */
  private static boolean awaitChange(LongSupplier version, Change change)
      throws IOException, InterruptedException {
    long before = version.getAsLong();
    change.make();
    if (awaitWithin5s(() -> version.getAsLong() != before)) {
      return true;
    }
    LOG.warn("a change of the training run was not published within 5 s (the archive holds "
        + "less)");
    return false;
  }

  /** Polls {@code condition} every 5 ms for up to 5 s; whether it came true. */
  static boolean awaitWithin5s(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  /** Writes {@code file} whole, then renames it into place, as editors and ConfigMaps do. */
  private static void write(Path file, String content) throws IOException {
    Path written = Files.writeString(file.resolveSibling(file.getFileName() + ".tmp"), content);
    Files.move(written, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static void exercise(Portico portico, ProxyOptions proxy) {
    // The gateway's own TLS engine: with the JDK's, the archive would hold some 200 JSSE
    // classes the gateway never loads, resident for nothing in every gateway's memory.
    // SNI as browsers send it: the gateway's first SNI name decodes it with java.net.IDN, whose
    // ICU tables (about 25 classes) otherwise load during the first client's handshake.
    HttpClientOptions trustingAll = new HttpClientOptions()
        .setSslEngineOptions(TlsEngines.engine()).setTrustAll(true).setVerifyHost(false)
        .setForceSni(true);
    HttpClient client = portico.vertx().createHttpClient(trustingAll);
    HttpClient h2 = portico.vertx().createHttpClient(new HttpClientOptions(trustingAll)
        .setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2));
    List<Future<?>> requests = new ArrayList<>();
    for (HttpPort port : portico.state().table().value().httpPorts()) {
      String host = port.address().isEmpty()
          ? (proxy.bindHost().equals("0.0.0.0") ? "127.0.0.1" : proxy.bindHost()) : port.address();
      Listener listener = port.listeners().isEmpty() ? null : port.listeners().get(0);
      String hostname = listener == null || listener.hostname() == null ? "localhost"
          : listener.hostname().replace("*", "training");
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setHost(host).setPort(proxy.bindPort(port.port())).setSsl(port.tls())
          .setURI("/").putHeader("host", hostname).setTimeout(5_000);
      requests.add(client.request(options).compose(request -> request.send())
          .compose(response -> response.body()));
      if (port.tls()) {
        requests.add(h2.request(new RequestOptions(options)).compose(request -> request.send())
            .compose(response -> response.body()));
      }
    }
    try {
      Future.join(requests).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // A request that failed loaded its classes all the same.
    }
  }
}
