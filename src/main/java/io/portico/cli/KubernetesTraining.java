package io.portico.cli;

import io.fabric8.kubernetes.api.Pluralize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.provider.CompactSerialization;
import io.portico.provider.KubernetesProvider;
import io.portico.resource.ResourceSnapshot;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Kubernetes half of the training run (see {@link TrainingRun}): starts Portico's
 * Kubernetes provider against a stand-in API server on loopback that serves the quickstart's
 * objects and one of each other kind Portico reads, so that the class-data archive also holds
 * what {@code run --kubernetes} loads before it serves: the kubeconfig parser, the client and its
 * HTTP stack, the informers, and the deserializers of every kind Portico reads. Without them a gateway in Kubernetes mode spent
 * about a second of its start loading and verifying those classes from the jar.
 *
 * <p>The stand-in answers only what the provider's start asks: the version, discovery (every
 * group serves every kind Portico watches), one list per kind (those objects of that kind) and
 * watches, accepted as WebSockets. Once the provider has delivered its first snapshot, the
 * watches carry what an operator's changes would (see {@link #exerciseChanges}). Nothing
 * leaves the loopback interface; a failure only means a smaller archive.
 */
final class KubernetesTraining {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesTraining.class);

  /** The plurals discovery lists in every group: all Portico watches. */
  private static final List<String> SERVED = List.of("gatewayclasses", "gateways", "httproutes",
      "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants",
      "backendtlspolicies", "listenersets", "backends", "backendtrafficpolicies",
      "clienttrafficpolicies", "securitypolicies", "envoyextensionpolicies", "envoypatchpolicies",
      "services", "endpointslices", "secrets", "configmaps", "namespaces");

  /**
   * One object of each kind Portico reads that the quickstart has none of, so that their
   * deserializers (and the stream routes' conversion from generic objects) are archived too.
   */
  static final String OTHER_KINDS = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GRPCRoute
      metadata: {name: training-grpc, namespace: default}
      spec:
        parentRefs: [{name: training}]
        hostnames: [grpc.training.local]
        rules:
        - matches: [{method: {service: training.Echo, method: Say}, headers: [{name: x, value: y}]}]
          backendRefs: [{name: training, port: 9000, weight: 1}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: TLSRoute
      metadata: {name: training-tls, namespace: default}
      spec:
        parentRefs: [{name: training, sectionName: tls}]
        hostnames: [tls.training.local]
        rules:
        - backendRefs: [{name: training, port: 9443}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: TCPRoute
      metadata: {name: training-tcp, namespace: default}
      spec:
        parentRefs: [{name: training, sectionName: tcp}]
        rules:
        - backendRefs: [{name: training, port: 9001}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: UDPRoute
      metadata: {name: training-udp, namespace: default}
      spec:
        parentRefs: [{name: training, sectionName: udp}]
        rules:
        - backendRefs: [{name: training, port: 9002}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: ReferenceGrant
      metadata: {name: training-grant, namespace: default}
      spec:
        from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: other}]
        to: [{group: "", kind: Service, name: training}]
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: BackendTLSPolicy
      metadata: {name: training-backend-tls, namespace: default}
      spec:
        targetRefs: [{group: "", kind: Service, name: training, sectionName: https}]
        validation:
          hostname: training.local
          wellKnownCACertificates: System
      ---
      apiVersion: gateway.networking.k8s.io/v1
      kind: ListenerSet
      metadata: {name: training-listeners, namespace: default}
      spec:
        parentRef: {name: training, kind: Gateway, group: gateway.networking.k8s.io}
        listeners:
        - {name: extra, protocol: HTTP, port: 8081, hostname: extra.training.local}
      ---
      apiVersion: gateway.envoyproxy.io/v1alpha1
      kind: Backend
      metadata: {name: training-backend, namespace: default}
      spec:
        endpoints: [{ip: {address: 127.0.0.1, port: 9003}}]
      """;

  private KubernetesTraining() {
  }

  /**
   * What a training run saw.
   *
   * @param first the provider's first snapshot, or null when the training failed (logged)
   * @param changes how many of the watch events of {@link #exerciseChanges} made a new snapshot
   */
  record Result(ResourceSnapshot first, int changes) {
  }

  /**
   * Runs the provider's start against the stand-in serving {@code configDirectory}'s objects,
   * then sends it changes through its watches.
   */
  static Result exercise(Vertx vertx, Path configDirectory) {
    KubernetesSerialization serialization = CompactSerialization.create();
    HttpServer server = null;
    try {
      Map<String, List<String>> itemsByPlural = itemsByPlural(serialization, configDirectory);
      Map<String, ServerWebSocket> watches = new ConcurrentHashMap<>();
      server = await(vertx.createHttpServer()
          .requestHandler(request -> answer(request, itemsByPlural, watches))
          .listen(0, "127.0.0.1"));
      Config config = Config.fromKubeconfig("""
          apiVersion: v1
          kind: Config
          clusters:
          - name: training
            cluster: {server: "http://127.0.0.1:%d"}
          contexts:
          - name: training
            context: {cluster: training, namespace: default, user: training}
          users:
          - name: training
            user: {token: training}
          current-context: training
          """.formatted(server.actualPort()));
      config.setRequestRetryBackoffLimit(0);
      try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config)
          .withKubernetesSerialization(serialization).build()) {
        BlockingQueue<ResourceSnapshot> snapshots = new LinkedBlockingQueue<>();
        KubernetesProvider provider = new KubernetesProvider(vertx, client,
            (snapshot, changeNanos) -> snapshots.add(snapshot));
        await(provider.start());
        ResourceSnapshot first = snapshots.poll(10, TimeUnit.SECONDS);
        int changes = first == null ? 0 : exerciseChanges(serialization, watches, snapshots);
        await(provider.stop());
        return new Result(first, changes);
      }
    } catch (Exception e) {
      LOG.warn("the Kubernetes part of the training run failed (the archive holds less): {}",
          e.toString());
      return new Result(null, 0);
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  /**
   * Sends through the watches what an operator's changes would (the change part of the file
   * training, {@link TrainingRun#exerciseChanges}, as watch events): a new HTTPRoute, a pod
   * added to a Service and then terminating, both deleted; each waited for until the provider
   * delivers the snapshot that has it. So the archive also holds the watch events' decoding,
   * the informers' update path and the provider's incremental snapshot. Returns how many
   * changes made a snapshot within 5 s each.
   */
  private static int exerciseChanges(KubernetesSerialization serialization,
      Map<String, ServerWebSocket> watches, BlockingQueue<ResourceSnapshot> snapshots)
      throws InterruptedException {
    String ready = TrainingRun.SLICE.formatted(true, false);
    String terminating = TrainingRun.SLICE.formatted(false, true);
    // Each event at a newer resourceVersion, as the API server sends them.
    String[][] events = {
        {"httproutes", "ADDED", asJson(serialization, TrainingRun.ROUTE, 2)},
        {"endpointslices", "ADDED", asJson(serialization, ready, 3)},
        {"endpointslices", "MODIFIED", asJson(serialization, terminating, 4)},
        {"endpointslices", "DELETED", asJson(serialization, terminating, 5)},
        {"httproutes", "DELETED", asJson(serialization, TrainingRun.ROUTE, 6)}};
    int changes = 0;
    for (String[] event : events) {
      if (!TrainingRun.awaitWithin5s(() -> watches.containsKey(event[0]))) {
        LOG.warn("the provider opened no watch on {} within 5 s (the archive holds less)",
            event[0]);
        break;
      }
      watches.get(event[0])
          .writeTextMessage("{\"type\":\"" + event[1] + "\",\"object\":" + event[2] + "}");
      if (snapshots.poll(5, TimeUnit.SECONDS) == null) {
        LOG.warn("the training's {} {} made no snapshot within 5 s (the archive holds less)",
            event[1], event[0]);
        break;
      }
      changes++;
    }
    return changes;
  }

  /** {@code yaml}'s one object as the API server would send it at {@code resourceVersion}. */
  private static String asJson(KubernetesSerialization serialization, String yaml,
      int resourceVersion) {
    HasMetadata object = serialization.unmarshal(yaml);
    object.getMetadata().setResourceVersion(String.valueOf(resourceVersion));
    return serialization.asJson(object);
  }

  /** The objects of {@code directory} and {@link #OTHER_KINDS} as JSON, by their kind's plural. */
  private static Map<String, List<String>> itemsByPlural(KubernetesSerialization serialization,
      Path directory) throws IOException {
    Map<String, List<String>> items = new HashMap<>();
    List<Path> files;
    try (Stream<Path> listing = Files.list(directory)) {
      files = listing.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    List<String> documents = new ArrayList<>();
    for (Path file : files) {
      documents.add(Files.readString(file));
    }
    documents.add(OTHER_KINDS);
    for (String yaml : documents) {
      for (String document : yaml.split("(?m)^---\\s*$")) {
        if (document.isBlank()) {
          continue;
        }
        Object parsed = serialization.unmarshal(document);
        if (parsed instanceof HasMetadata object) {
          items.computeIfAbsent(Pluralize.toPlural(object.getKind().toLowerCase(Locale.ROOT)),
              k -> new ArrayList<>())
              .add(serialization.asJson(object));
        }
      }
    }
    return items;
  }

  private static void answer(HttpServerRequest request, Map<String, List<String>> itemsByPlural,
      Map<String, ServerWebSocket> watches) {
    String path = request.path();
    String[] segments = path.substring(1).split("/");
    if (path.equals("/version")) {
      json(request, "{\"major\":\"1\",\"minor\":\"33\",\"gitVersion\":\"v1.33.0\"}");
    } else if ("true".equals(request.getParam("watch"))) {
      // A watch: events only from exerciseChanges, until the client closes it.
      request.toWebSocket()
          .onSuccess(watch -> watches.put(segments[segments.length - 1], watch))
          .onFailure(e -> request.response().setStatusCode(400).end());
    } else if (segments.length == 2 && segments[0].equals("api")
        || segments.length == 3 && segments[0].equals("apis")) {
      StringBuilder resources = new StringBuilder();
      for (String plural : SERVED) {
        resources.append(resources.isEmpty() ? "" : ",").append("{\"name\":\"").append(plural)
            .append("\",\"namespaced\":true,\"kind\":\"\",\"verbs\":[\"list\",\"watch\"]}");
      }
      json(request, "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\""
          + path.substring(path.indexOf('/', 1) + 1) + "\",\"resources\":[" + resources + "]}");
    } else {
      List<String> items = itemsByPlural.getOrDefault(segments[segments.length - 1], List.of());
      json(request, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"metadata\":"
          + "{\"resourceVersion\":\"1\"},\"items\":[" + String.join(",", items) + "]}");
    }
  }

  private static void json(HttpServerRequest request, String body) {
    request.response().putHeader("content-type", "application/json").end(body);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
