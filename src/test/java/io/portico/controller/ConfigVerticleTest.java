package io.portico.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.portico.bus.Addresses;
import io.portico.bus.LocalCodec;
import io.portico.bus.Versioned;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.provider.Provider;
import io.portico.provider.SnapshotSink;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import io.portico.translate.Translator;
import io.portico.translate.TranslatorOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration verticle's endpoint fast path, whichever provider delivers the snapshots:
 * a snapshot that changes only EndpointSlices (or Backend endpoints) publishes endpoints and
 * is not translated; anything that can change the table or status is.
 */
class ConfigVerticleTest {

  private static final String BASE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata: {name: gw, namespace: default}
      spec:
        gatewayClassName: portico
        listeners: [{name: http, protocol: HTTP, port: 18999}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: app, namespace: default}
      spec:
        parentRefs: [{name: gw}]
        hostnames: [app.example.com]
        rules: [{backendRefs: [{name: blue, port: 80}]}]
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: blue, namespace: default}
      spec:
        ports: [{name: http, port: 80, targetPort: http}]
      """;

  private static final String SERVICE_GREEN = """
      apiVersion: v1
      kind: Service
      metadata: {name: green, namespace: default}
      spec:
        ports: [{name: http, port: 80, targetPort: http}]
      ---
      """;

  private final Vertx vertx = Vertx.vertx();
  private final List<Versioned<?>> published = new CopyOnWriteArrayList<>();
  private SnapshotSink deliver;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static List<HasMetadata> objects(String yaml) {
    List<HasMetadata> objects = new ArrayList<>();
    new YamlResourceReader().read("test.yaml", yaml).objects()
        .forEach(located -> objects.add(located.object()));
    return objects;
  }

  private static String slice(int port, String conditions) {
    return """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: blue-1
          namespace: default
          labels: {kubernetes.io/service-name: blue}
        addressType: IPv4
        ports: [{name: http, port: %d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: %s
        """.formatted(port, conditions);
  }

  /** The same base objects (instances, as providers keep them), with other objects added. */
  private static ResourceSnapshot snapshot(List<HasMetadata> base, String more) {
    List<HasMetadata> all = new ArrayList<>(base);
    all.addAll(objects(more));
    return ResourceSnapshot.of(all);
  }

  private ConfigVerticle start(ResourceSnapshot first) throws Exception {
    LocalCodec.registerAll(vertx);
    vertx.eventBus().<Versioned<?>>localConsumer(Addresses.ENDPOINTS,
        message -> published.add(message.body()));
    vertx.eventBus().<Versioned<?>>localConsumer(Addresses.ROUTING_TABLE,
        message -> published.add(message.body()));
    ConfigVerticle config = new ConfigVerticle(new Translator(TranslatorOptions.DEFAULTS),
        onSnapshot -> new Provider() {
          @Override
          public Future<Void> start() {
            deliver = onSnapshot;
            onSnapshot.accept(first);
            return Future.succeededFuture();
          }

          @Override
          public Future<Void> stop() {
            return Future.succeededFuture();
          }

          @Override
          public List<ConfigProblem> problems() {
            return List.of();
          }
        }, state -> { }, meters);
    vertx.deployVerticle(config).toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    return config;
  }

  /** Delivers on the verticle's context, as providers do, and waits for the endpoints version. */
  private void deliverAndAwaitEndpoints(ConfigVerticle config, ResourceSnapshot snapshot,
      long afterVersion) throws Exception {
    deliverAndAwaitEndpoints(config, snapshot, SnapshotSink.UNTIMED, afterVersion);
  }

  private void deliverAndAwaitEndpoints(ConfigVerticle config, ResourceSnapshot snapshot,
      long firstChangeNanos, long afterVersion) throws Exception {
    vertx.runOnContext(v -> deliver.accept(snapshot, firstChangeNanos));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (config.state().endpoints().version() <= afterVersion) {
      assertThat(System.nanoTime()).as("endpoints version > " + afterVersion).isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  private static List<Endpoint> blue(ConfigVerticle config) {
    return config.state().endpoints().value().get(BackendKey.service("default", "blue", 80));
  }

  @Test
  void endpointOnlyChangesAreNotTranslated() throws Exception {
    List<HasMetadata> base = objects(BASE);
    ConfigVerticle config = start(snapshot(base, slice(9001, "{ready: true}")));
    assertThat(config.translations()).isEqualTo(1);
    Versioned<?> table = config.state().table();
    Object status = config.state().status();

    deliverAndAwaitEndpoints(config, snapshot(base, slice(9002, "{ready: true}")), 1);
    assertThat(blue(config)).containsExactly(new Endpoint("127.0.0.1", 9002));

    deliverAndAwaitEndpoints(config, snapshot(base, slice(9002, "{terminating: true}")), 2);
    assertThat(blue(config)).isEmpty();

    assertThat(config.translations()).isEqualTo(1);
    assertThat(config.state().table()).isSameAs(table);
    assertThat(config.state().status()).isSameAs(status);
    assertThat(published).noneMatch(v -> v.value() instanceof io.portico.ir.RoutingTable
        && v.version() > 1);
    assertThat(published).filteredOn(v -> v.value() instanceof EndpointsIndex)
        .extracting(Versioned::version).contains(2L, 3L);
  }

  @Test
  void serviceChangeIsTranslated() throws Exception {
    List<HasMetadata> base = objects(BASE);
    ConfigVerticle config = start(snapshot(base, slice(9001, "{ready: true}")));

    deliverAndAwaitEndpoints(config, snapshot(base, SERVICE_GREEN + slice(9001, "{ready: true}")),
        1);

    assertThat(config.translations()).isEqualTo(2);
  }

  @Test
  void propagationIsTimedFromTheChangeTheProviderSaw() throws Exception {
    List<HasMetadata> base = objects(BASE);
    ConfigVerticle config = start(snapshot(base, slice(9001, "{ready: true}")));
    Timer endpoints = meters.get("portico.config.propagation").tag("path", "endpoints").timer();
    Timer translated = meters.get("portico.config.propagation").tag("path", "translation")
        .timer();
    Timer translation = meters.get("portico.config.translation").timer();
    // The first snapshot, which no change caused, is not a propagation; its translation counts.
    assertThat(endpoints.count() + translated.count()).isZero();
    assertThat(translation.count()).isEqualTo(1);

    // A pod moved, seen 40 ms before the provider delivered it: the fast path, timed from then.
    long seen = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(40);
    deliverAndAwaitEndpoints(config, snapshot(base, slice(9002, "{ready: true}")), seen, 1);
    assertThat(endpoints.count()).isEqualTo(1);
    assertThat(endpoints.totalTime(TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(40);
    assertThat(translated.count()).isZero();
    assertThat(translation.count()).isEqualTo(1);

    // A new Service is translated; a delivery without a change time is not timed.
    deliverAndAwaitEndpoints(config, snapshot(base, SERVICE_GREEN + slice(9003, "{ready: true}")),
        System.nanoTime(), 2);
    assertThat(translated.count()).isEqualTo(1);
    assertThat(translation.count()).isEqualTo(2);
    deliverAndAwaitEndpoints(config, snapshot(base, slice(9004, "{ready: true}")), 3);
    assertThat(endpoints.count() + translated.count()).isEqualTo(2);
  }
}
