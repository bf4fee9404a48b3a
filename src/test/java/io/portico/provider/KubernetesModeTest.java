package io.portico.provider;

import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.portico.resource.ConfigProblem;
import io.portico.status.StatusWriter;
import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.TestGateway;
import io.portico.translate.TranslatorOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static io.portico.testing.TestGateway.awaitCondition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Kubernetes mode end to end: objects created through fabric8's CRUD mock API server, echo pods
 * on loopback, requests through Portico, status read back from the mock server.
 */
class KubernetesModeTest {

  /** The mock server logs every request through java.util.logging; kept quiet (and referenced). */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  private static final String OURS = TranslatorOptions.DEFAULT_CONTROLLER_NAME;
  private static final String OTHER = "example.com/other-controller";

  /** Path fragments the API server answers 404 for, as for a CRD that is not installed. */
  private final Set<String> notInstalled = ConcurrentHashMap.newKeySet();
  /** While set, discovery requests wait on it (after saying so in {@link #discoveryAsked}). */
  private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch>
      discoveryGate = new java.util.concurrent.atomic.AtomicReference<>();
  private final java.util.concurrent.atomic.AtomicBoolean discoveryAsked =
      new java.util.concurrent.atomic.AtomicBoolean();
  private KubernetesMockServer server;
  private KubernetesClient client;
  private EchoFleet fleet;
  private HttpProbe probe;
  private int port;

  @BeforeEach
  void startApiServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new UninstalledApis(notInstalled, discoveryGate, discoveryAsked), false);
    // As in a cluster, these kinds have a status subresource: a plain update keeps the status
    // (another controller's route status survives a kubectl apply).
    registerWithStatus("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses", false);
    registerWithStatus("gateway.networking.k8s.io", "v1", "Gateway", "gateways", true);
    registerWithStatus("gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true);
    registerWithStatus("gateway.networking.k8s.io", "v1", "BackendTLSPolicy",
        "backendtlspolicies", true);
    registerWithStatus("gateway.networking.k8s.io", "v1", "ListenerSet", "listenersets", true);
    registerWithStatus("gateway.envoyproxy.io", "v1alpha1", "BackendTrafficPolicy",
        "backendtrafficpolicies", true);
    // Listed by discovery, as in a cluster with these CRDs installed.
    registerWithStatus("gateway.networking.k8s.io", "v1", "ReferenceGrant", "referencegrants",
        true);
    registerWithStatus("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant",
        "referencegrants", true);
    registerWithStatus("gateway.envoyproxy.io", "v1alpha1", "Backend", "backends", true);
    registerWithStatus("gateway.envoyproxy.io", "v1alpha1", "SecurityPolicy", "securitypolicies",
        true);
    registerWithStatus("gateway.networking.k8s.io", "v1", "GRPCRoute", "grpcroutes", true);
    // An experimental-channel cluster: TCPRoute served as v1alpha2 only.
    registerWithStatus("gateway.networking.k8s.io", "v1alpha2", "TCPRoute", "tcproutes", true);
    server.init();
    client = server.createClient();
    fleet = new EchoFleet();
    probe = new HttpProbe();
    port = TestGateway.freePort();
  }

  @AfterEach
  void stopApiServer() {
    probe.close();
    fleet.close();
    client.close();
    try {
      server.destroy();
    } catch (RuntimeException e) {
      // The mock's own close gives up after 10 s when a watch connection lingers on a loaded
      // machine ("Unable to close MockWebServer"): its teardown, not Portico's behaviour.
      System.err.println("mock API server teardown: " + e.getMessage());
    }
  }

  @Test
  void servesListenerSetsAndWritesTheirStatus() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    int listenerSetPort = TestGateway.freePort();
    apply(gatewayYaml("web", port).replace("gatewayClassName: portico",
        "gatewayClassName: portico\n  allowedListeners: {namespaces: {from: Same}}"));
    apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: team, namespace: default}
        spec:
          parentRef: {name: web}
          listeners:
          - {name: app, protocol: HTTP, port: %d, hostname: team.example.com}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: team-route, namespace: default}
        spec:
          parentRefs: [{kind: ListenerSet, name: team}]
          rules:
          - backendRefs: [{name: echo, port: 80}]
        """.formatted(listenerSetPort));

    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      TestGateway.awaitCondition("the ListenerSet's port serves its route", () -> {
        try {
          return probe.get(listenerSetPort, "team.example.com", "/").status() == 200;
        } catch (AssertionError notYet) {
          return false;
        }
      });
      awaitCondition("ListenerSet status written", () -> {
        ListenerSet live = client.resources(ListenerSet.class).inNamespace("default")
            .withName("team").get();
        return live.getStatus() != null && isTrue(live.getStatus().getConditions(), "Accepted")
            && isTrue(live.getStatus().getConditions(), "Programmed")
            && live.getStatus().getListeners() != null
            && live.getStatus().getListeners().size() == 1
            && live.getStatus().getListeners().get(0).getAttachedRoutes() == 1;
      });
      awaitCondition("Gateway counts the ListenerSet", () -> {
        Gateway live = client.resources(Gateway.class).inNamespace("default").withName("web").get();
        return live.getStatus() != null
            && Integer.valueOf(1).equals(live.getStatus().getAttachedListenerSets());
      });
      // Route status is written after the Gateway's and the ListenerSet's in a round: wait.
      awaitCondition("route status written", () -> ourParent("team-route") != null);
      RouteParentStatus ours = ourParent("team-route");
      assertThat(ours.getParentRef().getKind()).isEqualTo("ListenerSet");
      assertThat(isTrue(ours.getConditions(), "Accepted")).isTrue();

      // Pointed at a Gateway that is not Portico's, the ListenerSet is no longer ours: the
      // status Portico wrote is removed.
      ListenerSet moved = client.resources(ListenerSet.class).inNamespace("default")
          .withName("team").get();
      moved.getSpec().getParentRef().setName("somebody-elses");
      client.resource(moved).update();
      awaitCondition("ListenerSet status removed", () -> {
        ListenerSet live = client.resources(ListenerSet.class).inNamespace("default")
            .withName("team").get();
        return live.getStatus() == null || live.getStatus().getConditions() == null
            || live.getStatus().getConditions().isEmpty();
      });
    }
  }

  @Test
  void servesTheClusterAndWritesStatusBack() {
    fleet.service("default", "echo", 2).service("default", "other", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    seedOtherControllersStatus("web-route");

    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      Set<String> pods = new HashSet<>();
      for (int i = 0; i < 6; i++) {
        HttpProbe.Response response = probe.get(port, "app.example.com", "/hello");
        assertThat(response.status()).isEqualTo(200);
        pods.add(response.pod());
      }
      assertThat(pods).containsExactlyInAnyOrder("echo-pod-0", "echo-pod-1");

      awaitCondition("Gateway status written", () -> {
        Gateway live = client.resources(Gateway.class).inNamespace("default").withName("web").get();
        return live.getStatus() != null
            && isTrue(live.getStatus().getConditions(), "Accepted")
            && isTrue(live.getStatus().getConditions(), "Programmed");
      });
      awaitCondition("GatewayClass status written", () -> {
        GatewayClass live = client.resources(GatewayClass.class).withName("portico").get();
        return live.getStatus() != null && isTrue(live.getStatus().getConditions(), "Accepted");
      });
      awaitCondition("HTTPRoute status written", () -> ourParent("web-route") != null);
      RouteParentStatus ours = ourParent("web-route");
      assertThat(isTrue(ours.getConditions(), "Accepted")).isTrue();
      assertThat(isTrue(ours.getConditions(), "ResolvedRefs")).isTrue();
      assertThat(ours.getParentRef().getName()).isEqualTo("web");
      assertThat(ours.getConditions()).allSatisfy(c -> {
        assertThat(c.getLastTransitionTime()).isNotBlank();
        assertThat(c.getObservedGeneration()).isNotNull();
      });
      List<RouteParentStatus> parents = route("web-route").getStatus().getParents();
      assertThat(parents).extracting(RouteParentStatus::getControllerName)
          .containsExactlyInAnyOrder(OURS, OTHER);

      // Only what changed is written: re-applied Services write nothing; a new route writes its
      // own status and the Gateway's (attachedRoutes 1 -> 2), the GatewayClass stays as it is.
      long writes = gateway.portico().statusWriter().writes();
      apply(fleet.yaml());
      long version = gateway.tableVersion();
      apply(routeYaml("unrelated", "unrelated.example.com", "echo"));
      gateway.awaitTableAfter(version);
      awaitCondition("status of the new route", () -> ourParent("unrelated") != null);
      // The route's and the Gateway's writes are two requests: the route's may be seen first.
      awaitCondition("the Gateway's status written too",
          () -> gateway.portico().statusWriter().writes() >= writes + 2);
      assertThat(gateway.portico().statusWriter().writes()).isEqualTo(writes + 2);
      // Settled: nothing queued or being written, as the writer's meters say too.
      awaitCondition("the status writer idle", () -> !gateway.portico().statusWriter().busy());
      io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
          new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
      gateway.portico().statusWriter().registerMetrics(meters);
      assertThat(meters.get("portico.status.writes").functionCounter().count())
          .isEqualTo(writes + 2);
      assertThat(meters.get("portico.status.writer.busy").gauge().value()).isZero();
      assertThat(meters.get("portico.status.rounds").functionCounter().count()).isPositive();

      // The route moves to a Gateway that is not ours: our parents entry goes.
      apply(routeYaml("unrelated", "unrelated.example.com", "echo", "elsewhere"));
      awaitCondition("our stale parents entry removed", () -> ourParent("unrelated") == null);
      apply(routeYaml("unrelated", "unrelated.example.com", "echo"));

      // The route's backend changes: traffic follows.
      apply(routeYaml("web-route", "app.example.com", "other"));
      awaitCondition("traffic moved to other", () -> "other-pod-0".equals(
          probe.get(port, "app.example.com", "/").pod()));

      // The route goes: 404, and the other controller's status entry is still there.
      assertThat(route("web-route").getStatus().getParents())
          .extracting(RouteParentStatus::getControllerName).contains(OTHER);
      client.resources(HTTPRoute.class).inNamespace("default").withName("web-route").delete();
      awaitCondition("404 after the route is deleted",
          () -> probe.get(port, "app.example.com", "/").status() == 404);
      assertThat(probe.get(port, "unrelated.example.com", "/").status()).isEqualTo(200);
    }
  }

  @Test
  void aGatewayThatIsNoLongerOursLosesOurStatusAndItsTraffic() {
    int otherPort = TestGateway.freePort();
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(gatewayYaml("stays", otherPort));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    apply(routeYaml("stays-route", "app.example.com", "echo", "stays"));
    apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: theirs}
        spec:
          controllerName: %s
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico-too}
        spec:
          controllerName: %s
        """.formatted(OTHER, OURS));
    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
      awaitCondition("both Gateways accepted", () -> gatewayAccepted("web")
          && gatewayAccepted("stays") && classAccepted("portico-too"));
      assertThat(gateway("web").getStatus().getListeners()).isNotEmpty();

      // Another controller's class: our conditions and listener entries go, the port closes.
      Gateway moved = gateway("web");
      moved.getSpec().setGatewayClassName("theirs");
      client.resource(moved).update();
      awaitCondition("our status removed from the moved Gateway", () -> {
        var status = gateway("web").getStatus();
        return status == null || ((status.getConditions() == null
            || status.getConditions().isEmpty())
            && (status.getListeners() == null || status.getListeners().isEmpty()));
      });
      awaitCondition("no traffic for the moved Gateway", () -> notServed(port));
      awaitCondition("our route entry for it removed", () -> ourParent("web-route") == null);

      // Another Gateway is not affected.
      assertThat(gatewayAccepted("stays")).isTrue();
      assertThat(gateway("stays").getStatus().getListeners()).isNotEmpty();
      assertThat(probe.get(otherPort, "app.example.com", "/").status()).isEqualTo(200);
      assertThat(ourParent("stays-route")).isNotNull();

      // A GatewayClass whose controllerName is no longer ours loses our Accepted condition.
      GatewayClass renamed = client.resources(GatewayClass.class).withName("portico-too").get();
      renamed.getSpec().setControllerName(OTHER);
      client.resource(renamed).update();
      awaitCondition("our condition removed from the class", () -> {
        var status = client.resources(GatewayClass.class).withName("portico-too").get()
            .getStatus();
        return status == null || status.getConditions() == null
            || status.getConditions().isEmpty();
      });
      assertThat(classAccepted("portico")).isTrue();
    }
  }

  private Gateway gateway(String name) {
    return client.resources(Gateway.class).inNamespace("default").withName(name).get();
  }

  private boolean gatewayAccepted(String name) {
    Gateway live = gateway(name);
    return live.getStatus() != null && isTrue(live.getStatus().getConditions(), "Accepted");
  }

  private boolean classAccepted(String name) {
    GatewayClass live = client.resources(GatewayClass.class).withName(name).get();
    return live.getStatus() != null && isTrue(live.getStatus().getConditions(), "Accepted");
  }

  /** Nothing answers on the port any more, or nothing routes there: 404. */
  private boolean notServed(int port) {
    try {
      return probe.get(port, "app.example.com", "/").status() == 404;
    } catch (AssertionError refused) {
      return true;
    }
  }

  @Test
  void anInvalidObjectIsReportedByNameAndTheRestKeepsServing() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: broken, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: []
        """);
    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      assertThat(gateway.portico().problems()).extracting(ConfigProblem::toString)
          .anySatisfy(p -> assertThat(p).contains("Gateway/default/broken")
              .contains("spec.listeners must have at least one listener"));
      assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);

      // Fixed in the cluster: the problem goes away.
      long version = gateway.tableVersion();
      client.resources(Gateway.class).inNamespace("default").withName("broken").delete();
      awaitCondition("problem cleared", () -> gateway.portico().problems().isEmpty());
      assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
      assertThat(gateway.tableVersion()).isGreaterThanOrEqualTo(version);
    }
  }

  @Test
  void missingEnvoyGatewayCrdsAreTreatedAsEmptyWithoutErrorsInTheLog() {
    notInstalled.add("/apis/gateway.envoyproxy.io/");
    notInstalled.add("/backendtlspolicies");
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    // slf4j-simple writes to the System.err of the moment: everything logged at ERROR (the
    // test configuration shows fabric8's ERRORs) during the start lands here.
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    TestGateway started;
    System.setErr(new java.io.PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      started = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a");
    } finally {
      System.setErr(err);
    }
    try (TestGateway gateway = started) {
      assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
      assertThat(log.toString(StandardCharsets.UTF_8)).doesNotContain("ERROR")
          .doesNotContain("Exception");
      assertThat(listedKinds()).contains("httproutes").doesNotContain("backends", "backendtrafficpolicies",
          "backendtlspolicies");
    }
  }

  @Test
  void aRoundWithNothingNewMergesNothing() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    for (int i = 0; i < 20; i++) {
      apply(routeYaml("route-" + i, "host-" + i + ".example.com", "echo"));
    }
    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      var writer = gateway.portico().statusWriter();
      awaitCondition("every route's status written", () -> java.util.stream.IntStream
          .range(0, 20).allMatch(i -> ourParent("route-" + i) != null));
      awaitStatusSettled(writer);

      // Nothing a status depends on changes: the next round merges none of the 20 routes.
      long merges = writer.merges();
      long rounds = writer.rounds();
      apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nudge, namespace: default}\n"
          + "data: {round: last}\n");
      awaitCondition("a round after the last nudge", () -> writer.rounds() > rounds);
      assertThat(writer.merges()).isEqualTo(merges);
      assertThat(ourParent("route-11")).isNotNull();
    }
  }

  @Test
  void aRoundLooksAtTheRoutesWhoseStatusChangedAndRewritesOnlyThose() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    for (int i = 0; i < 30; i++) {
      apply(routeYaml("route-" + i, "host-" + i + ".example.com", "echo"));
    }
    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      var writer = gateway.portico().statusWriter();
      awaitCondition("every route's status written", () -> java.util.stream.IntStream
          .range(0, 30).allMatch(i -> ourParent("route-" + i) != null));
      awaitStatusSettled(writer);
      String untouched = route("route-11").getMetadata().getResourceVersion();
      long examined = writer.examined();
      long rounds = writer.rounds();

      // One route changes: its status is written for its new generation, and each round looks
      // at it, the Gateway and the GatewayClass only, not at the 29 other routes (a round in
      // progress when the counters are read is the "+ 1"). No nudge here: a ConfigMap change
      // gives every route a new status object (see ChangedStatuses), to be looked at.
      apply(routeYaml("route-7", "moved.example.com", "echo"));
      awaitCondition("route-7's new generation reported", () -> {
        RouteParentStatus parent = ourParent("route-7");
        return parent != null && parent.getConditions().stream()
            .allMatch(c -> Long.valueOf(2).equals(c.getObservedGeneration()));
      });
      // The write is seen before the round that made it ends (rounds count finished ones).
      awaitCondition("the round that wrote it finished", () -> writer.rounds() > rounds);
      long examinedSince = writer.examined() - examined;
      long roundsSince = writer.rounds() - rounds;
      assertThat(roundsSince).isPositive();
      assertThat(examinedSince).isLessThanOrEqualTo((roundsSince + 1) * 3);
      assertThat(route("route-11").getMetadata().getResourceVersion()).isEqualTo(untouched);

      // Someone else removes our status from a route. A status-only change makes no snapshot
      // (StatusEchoes), but the provider tells the writer, which sees the status is not the
      // echo of its own write: our status is written again, with nothing else changing.
      HTTPRoute wiped = route("route-5");
      wiped.setStatus(new HTTPRouteStatus());
      client.resource(wiped).updateStatus();
      awaitCondition("route-5's status written again", () -> ourParent("route-5") != null);
    }
  }

  /**
   * Waits until a round finds nothing to write. Our own writes come back as route changes and
   * make more rounds; a ConfigMap change makes one more each time it is asked.
   */
  private void awaitStatusSettled(StatusWriter writer) {
    awaitCondition("status settled", () -> {
      long writes = writer.writes();
      long rounds = writer.rounds();
      apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nudge, namespace: default}\n"
          + "data: {round: \"" + rounds + "\"}\n");
      awaitCondition("a round after the nudge", () -> writer.rounds() > rounds);
      return writer.writes() == writes;
    });
  }

  @Test
  void aChangedObjectIsTheOnlyOneCheckedAgainAndNothingIsLost() throws Exception {
    for (int i = 0; i < 20; i++) {
      apply(routeYaml("route-" + i, "host-" + i + ".example.com", "echo"));
    }
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    java.util.concurrent.BlockingQueue<io.portico.resource.ResourceSnapshot> snapshots =
        new java.util.concurrent.LinkedBlockingQueue<>();
    KubernetesProvider provider =
        new KubernetesProvider(vertx, client, (snapshot, changeNanos) -> snapshots.add(snapshot));
    try {
      provider.start().toCompletionStage().toCompletableFuture()
          .get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(snapshots.take().httpRoutes()).hasSize(20);
      long checked = provider.objectsChecked();

      // One route changes: only it is converted and checked again; the other 19 are kept.
      apply(routeYaml("route-7", "moved.example.com", "echo"));
      io.portico.resource.ResourceSnapshot changed = snapshots.poll(20,
          java.util.concurrent.TimeUnit.SECONDS);
      assertThat(changed).isNotNull();
      assertThat(changed.httpRoutes()).hasSize(20);
      assertThat(changed.httpRoutes().stream()
          .filter(r -> r.getMetadata().getName().equals("route-7"))
          .findFirst().orElseThrow().getSpec().getHostnames())
          .containsExactly("moved.example.com");
      assertThat(provider.objectsChecked()).isEqualTo(checked + 1);

      // One goes, one comes: both seen, nothing else checked again.
      client.resources(HTTPRoute.class).inNamespace("default").withName("route-3").delete();
      apply(routeYaml("route-20", "host-20.example.com", "echo"));
      awaitCondition("route-3 gone and route-20 served", () -> {
        io.portico.resource.ResourceSnapshot last = null;
        for (io.portico.resource.ResourceSnapshot s; (s = snapshots.poll()) != null; ) {
          last = s;
        }
        if (last == null) {
          return false;
        }
        List<String> names = last.httpRoutes().stream().map(r -> r.getMetadata().getName())
            .toList();
        return names.size() == 20 && names.contains("route-20") && !names.contains("route-3");
      });
      assertThat(provider.objectsChecked()).isEqualTo(checked + 2);
    } finally {
      provider.stop();
      vertx.close();
    }
  }

  @Test
  void aWatchEventIsDeliveredWithWhenTheInformerHandedItOver() throws Exception {
    apply(routeYaml("route-0", "host-0.example.com", "echo"));
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    java.util.concurrent.BlockingQueue<long[]> deliveries =
        new java.util.concurrent.LinkedBlockingQueue<>();
    KubernetesProvider provider = new KubernetesProvider(vertx, client,
        (snapshot, firstChangeNanos) -> deliveries.add(
            new long[] {firstChangeNanos, System.nanoTime(), snapshot.httpRoutes().size()}));
    try {
      provider.start().toCompletionStage().toCompletableFuture()
          .get(20, java.util.concurrent.TimeUnit.SECONDS);
      long[] first = deliveries.take();
      assertThat(first[0]).as("the start's snapshot: no change caused it")
          .isEqualTo(SnapshotSink.UNTIMED);

      long beforeApply = System.nanoTime();
      apply(routeYaml("route-1", "host-1.example.com", "echo"));
      long[] changed = deliveries.poll(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(changed).isNotNull();
      assertThat(changed[2]).isEqualTo(2);
      assertThat(changed[0]).as("seen after the object was written").isGreaterThan(beforeApply);
      assertThat(changed[1]).as("delivered after it was seen").isGreaterThan(changed[0]);
    } finally {
      provider.stop();
      vertx.close();
    }
  }

  @Test
  void aChangeAfterAQuietSpellIsBuiltAtOnceAndOnlyWhatFollowsIsHeldOff() throws Exception {
    apply(routeYaml("route-0", "host-0.example.com", "echo"));
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    java.util.concurrent.BlockingQueue<io.portico.resource.ResourceSnapshot> snapshots =
        new java.util.concurrent.LinkedBlockingQueue<>();
    // A hold-off far longer than the test waits: a snapshot within 10 s was not held off.
    FileProvider.Options slow = new FileProvider.Options(java.time.Duration.ofSeconds(30),
        java.time.Duration.ofSeconds(60));
    KubernetesProvider provider = new KubernetesProvider(vertx, client, slow,
        (snapshot, changeNanos) -> snapshots.add(snapshot));
    try {
      provider.start().toCompletionStage().toCompletableFuture()
          .get(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(snapshots.take().httpRoutes()).hasSize(1);

      apply(routeYaml("route-1", "host-1.example.com", "echo"));
      io.portico.resource.ResourceSnapshot lone = snapshots.poll(10,
          java.util.concurrent.TimeUnit.SECONDS);
      assertThat(lone).as("a lone change, delivered without its 30 s hold-off").isNotNull();
      assertThat(lone.httpRoutes()).hasSize(2);

      // The next change comes within the hold-off of the last: batched, not delivered yet.
      apply(routeYaml("route-2", "host-2.example.com", "echo"));
      assertThat(snapshots.poll(2, java.util.concurrent.TimeUnit.SECONDS))
          .as("a change within the hold-off of the one before").isNull();
    } finally {
      provider.stop();
      vertx.close();
    }
  }

  @Test
  void aStatusOnlyUpdateMakesNoSnapshotAndTheWriterSeesTheNewStatus() throws Exception {
    for (int i = 0; i < 10; i++) {
      apply(routeYaml("route-" + i, "host-" + i + ".example.com", "echo"));
    }
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    java.util.concurrent.BlockingQueue<io.portico.resource.ResourceSnapshot> snapshots =
        new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.Set<String> statusChanges = ConcurrentHashMap.newKeySet();
    KubernetesProvider provider =
        new KubernetesProvider(vertx, client, (snapshot, changeNanos) -> snapshots.add(snapshot));
    provider.onStatusChange((key, version) -> statusChanges.add(key.name() + "@" + version));
    try {
      provider.start().toCompletionStage().toCompletableFuture()
          .get(20, java.util.concurrent.TimeUnit.SECONDS);
      io.portico.resource.ResourceSnapshot first = snapshots.take();
      HTTPRoute before = first.httpRoutes().stream()
          .filter(r -> r.getMetadata().getName().equals("route-5")).findFirst().orElseThrow();
      long checked = provider.objectsChecked();

      // A status is written (as the status writer does): the listener hears of it, with the
      // new resourceVersion, and the informer's copy carries it.
      seedOtherControllersStatus("route-5");
      String version = route("route-5").getMetadata().getResourceVersion();
      awaitCondition("the status change heard", () -> statusChanges.contains("route-5@" + version));
      assertThat(provider.statusEchoes()).isPositive();
      HTTPRoute current = (HTTPRoute) provider.current(
          new io.portico.resource.ObjectKey("HTTPRoute", "default", "route-5"));
      assertThat(current.getStatus().getParents()).extracting(RouteParentStatus::getControllerName)
          .containsExactly(OTHER);
      // The informer's new copy holds no second spec: it shares the translated copy's.
      assertThat(current).isNotSameAs(before);
      assertThat(current.getSpec()).isSameAs(before.getSpec());

      // It made no snapshot: the next one is the next real change's, and it keeps route-5 as
      // the very instance translated before (so nothing computed from it is redone).
      apply(routeYaml("route-7", "moved.example.com", "echo"));
      io.portico.resource.ResourceSnapshot next = snapshots.poll(20,
          java.util.concurrent.TimeUnit.SECONDS);
      assertThat(next).isNotNull();
      assertThat(next.httpRoutes().stream()
          .filter(r -> r.getMetadata().getName().equals("route-7"))
          .findFirst().orElseThrow().getSpec().getHostnames())
          .containsExactly("moved.example.com");
      assertThat(next.httpRoutes().stream()
          .filter(r -> r.getMetadata().getName().equals("route-5")).findFirst().orElseThrow())
          .isSameAs(before);
      assertThat(provider.objectsChecked()).isEqualTo(checked + 1);
    } finally {
      provider.stop();
      vertx.close();
    }
  }

  @Test
  void tcpRoutesAreWatchedAtTheServedVersionAndTheirStatusWrittenBack() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      int echo = io.portico.echo.TcpEchoServer
          .start(vertx, new io.portico.echo.EchoOptions("127.0.0.1", 0, "db-pod", "default"))
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS)
          .port();
      apply(podBehindGatewayYaml("db", "pg", 5432, echo, "{name: pg, protocol: TCP, port: %d}"
          .formatted(port)) + """
          apiVersion: gateway.networking.k8s.io/v1alpha2
          kind: TCPRoute
          metadata: {name: db, namespace: default}
          spec:
            parentRefs: [{name: edge}]
            rules:
            - backendRefs: [{name: db, port: 5432}]
          """);

      try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
        awaitCondition("a connection reaches db-pod", () -> {
          try {
            return "db-pod".equals(io.portico.testing.StreamProbe.tcp(port).pod());
          } catch (java.io.IOException e) {
            return false;
          }
        });
        var v1alpha2 = new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext
            .Builder().withGroup("gateway.networking.k8s.io").withVersion("v1alpha2")
            .withKind("TCPRoute").withPlural("tcproutes").withNamespaced(true).build();
        awaitCondition("TCPRoute status written at v1alpha2", () -> {
          var live = client.genericKubernetesResources(v1alpha2).inNamespace("default")
              .withName("db").get();
          Object status = live == null ? null : live.getAdditionalProperties().get("status");
          if (status == null) {
            return false;
          }
          var parents = client.getKubernetesSerialization().convertValue(status,
              io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteStatus.class).getParents();
          return parents != null && parents.stream().anyMatch(p -> OURS.equals(
              p.getControllerName()) && isTrue(p.getConditions(), "Accepted"));
        });

        // The route moves to a Gateway that is not ours: our parents entry goes.
        apply("""
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata: {name: db, namespace: default}
            spec:
              parentRefs: [{name: elsewhere}]
              rules:
              - backendRefs: [{name: db, port: 5432}]
            """);
        awaitCondition("our TCPRoute parents entry removed", () -> {
          var live = client.genericKubernetesResources(v1alpha2).inNamespace("default")
              .withName("db").get();
          Object status = live.getAdditionalProperties().get("status");
          var parents = status == null ? null : client.getKubernetesSerialization()
              .convertValue(status, io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteStatus.class)
              .getParents();
          return parents == null || parents.stream()
              .noneMatch(p -> OURS.equals(p.getControllerName()));
        });
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10,
          java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void grpcRoutesAreServedAndTheirStatusWrittenBack() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      int echo = io.portico.echo.GrpcEchoServer
          .start(vertx, new io.portico.echo.EchoOptions("127.0.0.1", 0, "grpc-pod", "default"))
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS)
          .port();
      apply(podBehindGatewayYaml("echo", "grpc", 50051, echo,
          "{name: http, protocol: HTTP, port: %d}".formatted(port)) + """
          apiVersion: gateway.networking.k8s.io/v1
          kind: GRPCRoute
          metadata: {name: echo, namespace: default}
          spec:
            parentRefs: [{name: edge}]
            rules:
            - matches: [{method: {service: %s}}]
              backendRefs: [{name: echo, port: 50051}]
          """.formatted(io.portico.echo.GrpcEchoServer.SERVICE));

      try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
        var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
            .forAddress("127.0.0.1", port).usePlaintext().build();
        try {
          awaitCondition("a gRPC call reaches grpc-pod", () -> {
            try {
              byte[] answer = io.grpc.stub.ClientCalls.blockingUnaryCall(channel,
                  io.portico.testing.GrpcEcho.method("Echo"), io.grpc.CallOptions.DEFAULT
                      .withDeadlineAfter(5, java.util.concurrent.TimeUnit.SECONDS), new byte[0]);
              return "grpc-pod".equals(io.portico.testing.GrpcEcho.Answer.parse(answer).pod());
            } catch (io.grpc.StatusRuntimeException e) {
              return false;
            }
          });
        } finally {
          channel.shutdownNow();
        }
        awaitCondition("GRPCRoute status written", () -> {
          var live = client.resources(io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute.class)
              .inNamespace("default").withName("echo").get();
          return live != null && live.getStatus() != null && live.getStatus().getParents() != null
              && live.getStatus().getParents().stream().anyMatch(p -> OURS.equals(
                  p.getControllerName()) && isTrue(p.getConditions(), "Accepted"));
        });
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10,
          java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  /** The plurals that were listed (an informer's first request) since the server started. */
  private Set<String> listedKinds() {
    Set<String> plurals = new HashSet<>();
    int count = server.getRequestCount();
    for (int i = 0; i < count; i++) {
      try {
        var request = server.takeRequest(1, java.util.concurrent.TimeUnit.SECONDS);
        if (request == null) {
          break;
        }
        String path = request.getPath();
        String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        plurals.add(bare.substring(bare.lastIndexOf('/') + 1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return plurals;
  }

  @Test
  void referenceGrantsAreReadAsV1beta1WhenV1IsNotServed() {
    notInstalled.add("/apis/gateway.networking.k8s.io/v1/referencegrants");
    fleet.service("backends", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: cross, namespace: default}
        spec:
          parentRefs: [{name: web}]
          hostnames: [app.example.com]
          rules:
          - backendRefs: [{name: echo, namespace: backends, port: 80}]
        """);
    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      // No grant: the reference is refused.
      assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(500);
      apply("""
          apiVersion: gateway.networking.k8s.io/v1beta1
          kind: ReferenceGrant
          metadata: {name: allow-default-routes, namespace: backends}
          spec:
            from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}]
            to: [{group: "", kind: Service}]
          """);
      awaitCondition("the v1beta1 grant lets the route through",
          () -> probe.get(port, "app.example.com", "/").status() == 200);
      assertThat(probe.get(port, "app.example.com", "/").pod()).isEqualTo("echo-pod-0");
    }
  }

  @Test
  void backendTrafficPolicyStatusKeepsOtherControllersAncestors() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    GenericKubernetesResource policy = client.getKubernetesSerialization().unmarshal("""
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: lb, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web-route}]
          loadBalancer: {type: RoundRobin}
        """, GenericKubernetesResource.class);
    GenericKubernetesResource created = policies().resource(policy).create();
    created.setAdditionalProperty("status", Map.of("ancestors", List.of(Map.of(
        "ancestorRef", Map.of("name", "their-gateway"),
        "controllerName", OTHER,
        "conditions", List.of(Map.of("type", "Accepted", "status", "True", "reason", "Accepted",
            "message", "theirs", "lastTransitionTime", "2026-01-01T00:00:00Z"))))));
    policies().resource(created).updateStatus();

    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      awaitCondition("policy status written", () -> policyAncestors().stream()
          .anyMatch(a -> OURS.equals(a.getControllerName())));
      List<PolicyAncestorStatus> ancestors = policyAncestors();
      assertThat(ancestors).extracting(PolicyAncestorStatus::getControllerName)
          .containsExactlyInAnyOrder(OURS, OTHER);
      PolicyAncestorStatus ours = ancestors.stream()
          .filter(a -> OURS.equals(a.getControllerName())).findFirst().orElseThrow();
      assertThat(ours.getAncestorRef().getName()).isEqualTo("web");
      assertThat(isTrue(ours.getConditions(), "Accepted")).isTrue();
    }
  }

  private NonNamespaceOperation<GenericKubernetesResource, GenericKubernetesResourceList,
      Resource<GenericKubernetesResource>> policies() {
    return client.genericKubernetesResources(new ResourceDefinitionContext.Builder()
        .withGroup("gateway.envoyproxy.io").withVersion("v1alpha1")
        .withKind("BackendTrafficPolicy").withPlural("backendtrafficpolicies")
        .withNamespaced(true).build()).inNamespace("default");
  }

  private List<PolicyAncestorStatus> policyAncestors() {
    Object status = policies().withName("lb").get().getAdditionalProperties().get("status");
    if (status == null) {
      return List.of();
    }
    PolicyStatus typed = client.getKubernetesSerialization().convertValue(status,
        PolicyStatus.class);
    return typed.getAncestors() == null ? List.of() : typed.getAncestors();
  }

  @Test
  void securityPolicyFailsClosedAndItsStatusSaysWhy() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    apply(routeYaml("open-route", "open.example.com", "echo"));
    var securityPolicies = client.genericKubernetesResources(new ResourceDefinitionContext.Builder()
        .withGroup("gateway.envoyproxy.io").withVersion("v1alpha1")
        .withKind("SecurityPolicy").withPlural("securitypolicies")
        .withNamespaced(true).build()).inNamespace("default");
    securityPolicies.resource(client.getKubernetesSerialization().unmarshal("""
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: SecurityPolicy
        metadata: {name: jwt, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web-route}]
          jwt: {providers: [{name: example, remoteJWKS: {uri: https://example.com/jwks}}]}
        """, GenericKubernetesResource.class)).create();

    try (TestGateway gateway = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      var refused = probe.get(port, "app.example.com", "/");
      assertThat(refused.status()).isEqualTo(500);
      assertThat(refused.headers().get("x-portico-failure"))
          .isEqualTo("security_policy_not_enforced");
      assertThat(probe.get(port, "open.example.com", "/").status()).isEqualTo(200);
      awaitCondition("SecurityPolicy status written", () -> {
        Object status = securityPolicies.withName("jwt").get().getAdditionalProperties()
            .get("status");
        return status != null && status.toString().contains("does not implement SecurityPolicy");
      });
      PolicyStatus status = client.getKubernetesSerialization().convertValue(
          securityPolicies.withName("jwt").get().getAdditionalProperties().get("status"),
          PolicyStatus.class);
      assertThat(status.getAncestors()).singleElement().satisfies(ancestor -> {
        assertThat(ancestor.getControllerName()).isEqualTo(OURS);
        assertThat(ancestor.getAncestorRef().getName()).isEqualTo("web");
        assertThat(isTrue(ancestor.getConditions(), "Accepted")).isFalse();
      });
    }
  }

  @Test
  void onlyTheLeaderWritesStatus() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    try (TestGateway a = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      awaitCondition("replica-a leads", () -> a.portico().statusWriter().isLeader());
      try (TestGateway b = TestGateway.startKubernetes(client, "127.0.0.2", "replica-b")) {
        // Both serve.
        assertThat(probe.get(port, "app.example.com", "/").status()).isEqualTo(200);
        assertThat(probe.getAt("127.0.0.2", port, "app.example.com", "/").status())
            .isEqualTo(200);

        long versionB = b.tableVersion();
        apply(routeYaml("second", "second.example.com", "echo"));
        b.awaitTableAfter(versionB);
        awaitCondition("status of the new route", () -> ourParent("second") != null);
        assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("replica-a");
        assertThat(a.portico().statusWriter().writes()).isGreaterThan(0);
        assertThat(b.portico().statusWriter().isLeader()).isFalse();
        assertThat(b.portico().statusWriter().writes()).isZero();

        // The leader goes (releasing the Lease): the other replica takes over and writes.
        a.close();
        awaitCondition("replica-b leads", () -> b.portico().statusWriter().isLeader());
        apply(routeYaml("third", "third.example.com", "echo"));
        awaitCondition("status of the route created after failover",
            () -> ourParent("third") != null);
        assertThat(b.portico().statusWriter().writes()).isGreaterThan(0);
        assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("replica-b");
      }
    }
  }

  @Test
  void aReplicaThatLostTheLeaseTakesPartAgainAndWritesStatus() {
    fleet.service("default", "echo", 1);
    apply(fleet.yaml());
    apply(gatewayYaml("web", port));
    apply(routeYaml("web-route", "app.example.com", "echo"));
    try (TestGateway a = TestGateway.startKubernetes(client, "127.0.0.1", "replica-a")) {
      StatusWriter writer = a.portico().statusWriter();
      awaitCondition("replica-a leads", writer::isLeader);

      // Another holds the Lease for a few seconds, as when a renewal did not get through in
      // time: replica-a stops leading, then takes the Lease again once it expires.
      // (The holder renews every 100 ms: an update may meet a newer version, and is retried.)
      awaitCondition("the Lease taken by another", () -> {
        Lease taken = lease();
        taken.getSpec().setHolderIdentity("intruder");
        taken.getSpec().setLeaseDurationSeconds(6);
        taken.getSpec().setRenewTime(java.time.ZonedDateTime.now());
        try {
          client.resource(taken).update();
          return true;
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          return false;
        }
      });
      awaitCondition("replica-a no longer leads", () -> !writer.isLeader());
      awaitCondition("replica-a leads again", writer::isLeader);
      apply(routeYaml("after", "after.example.com", "echo"));
      awaitCondition("status of a route created after", () -> ourParent("after") != null);
      assertThat(lease().getSpec().getHolderIdentity()).isEqualTo("replica-a");
    }
  }

  @Test
  void discoveryWaitsForTheApiServerOffTheEventLoop() throws Exception {
    java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
    discoveryGate.set(gate);
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      KubernetesProvider provider =
          new KubernetesProvider(vertx, client, (snapshot, changeNanos) -> { });
      io.vertx.core.Context context = vertx.getOrCreateContext();
      java.util.concurrent.CompletableFuture<Void> started =
          new java.util.concurrent.CompletableFuture<>();
      context.runOnContext(v -> provider.start().onComplete(ar -> {
        if (ar.succeeded()) {
          started.complete(null);
        } else {
          started.completeExceptionally(ar.cause());
        }
      }));
      awaitCondition("discovery asked", discoveryAsked::get);
      // The API server has not answered discovery yet: the provider's event loop is still free.
      java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
      context.runOnContext(v -> ran.countDown());
      boolean eventLoopFree = ran.await(5, java.util.concurrent.TimeUnit.SECONDS);
      gate.countDown();
      assertThat(eventLoopFree).as("a task ran on the provider's event loop while discovery"
          + " waited for the API server").isTrue();
      started.get(20, java.util.concurrent.TimeUnit.SECONDS);
      provider.stop();
    } finally {
      discoveryGate.set(null);
      vertx.close();
    }
  }

  @Test
  void anUnreachableApiServerFailsTheStartNamingItsUrl() {
    int closed = TestGateway.freePort();
    try (KubernetesClient unreachable = new KubernetesClientBuilder().withConfig(
        new ConfigBuilder(Config.empty()).withMasterUrl("http://127.0.0.1:" + closed)
            .withRequestRetryBackoffLimit(0).build()).build()) {
      assertThatThrownBy(() -> TestGateway.startKubernetes(unreachable, "127.0.0.1", "replica-a"))
          .hasMessageContaining("cannot read from the Kubernetes API server at")
          .hasMessageContaining("127.0.0.1:" + closed);
    }
  }

  /** The CRUD mock server, answering 404 for the APIs of CRDs that are "not installed". */
  private static final class UninstalledApis extends KubernetesCrudDispatcher {
    private final Set<String> notInstalled;
    private final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch>
        discoveryGate;
    private final java.util.concurrent.atomic.AtomicBoolean discoveryAsked;

    UninstalledApis(Set<String> notInstalled,
        java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch> gate,
        java.util.concurrent.atomic.AtomicBoolean asked) {
      this.notInstalled = notInstalled;
      this.discoveryGate = gate;
      this.discoveryAsked = asked;
    }

    @Override
    public MockResponse handleGet(String path) {
      java.util.concurrent.CountDownLatch gate = discoveryGate.get();
      if (gate != null && path.matches("/apis/[^/]+/[^/?]+")) {
        discoveryAsked.set(true);
        try {
          gate.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (notInstalled.stream().anyMatch(path::contains)) {
        return new MockResponse().setResponseCode(404).setBody(
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                + "\"reason\":\"NotFound\",\"code\":404}");
      }
      MockResponse response = super.handleGet(path);
      String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
      if (bare.matches("/apis/[^/]+/[^/]+") && response.getBody() != null) {
        // Discovery of a group version: what is "not installed" is not listed either.
        var serialization = new io.fabric8.kubernetes.client.utils.KubernetesSerialization();
        APIResourceList list = serialization.unmarshal(response.getBody().readUtf8(),
            APIResourceList.class);
        list.getResources().removeIf(r -> notInstalled.stream()
            .anyMatch((bare + "/" + r.getName())::contains));
        response.setBody(serialization.asJson(list));
      }
      return response;
    }
  }

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  private void registerWithStatus(String group, String version, String kind, String plural,
      boolean namespaced) {
    server.expectCustomResource(new CustomResourceDefinitionContext.Builder()
        .withName(plural + "." + group)
        .withGroup(group)
        .withVersion(version)
        .withKind(kind)
        .withPlural(plural)
        .withScope(namespaced ? "Namespaced" : "Cluster")
        .withStatusSubresource(true)
        .build());
  }

  private Lease lease() {
    return client.leases().inNamespace("default").withName("portico").get();
  }

  private static boolean isTrue(List<Condition> conditions, String type) {
    return conditions != null && conditions.stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private HTTPRoute route(String name) {
    return client.resources(HTTPRoute.class).inNamespace("default").withName(name).get();
  }

  private RouteParentStatus ourParent(String name) {
    HTTPRoute route = route(name);
    if (route == null || route.getStatus() == null || route.getStatus().getParents() == null) {
      return null;
    }
    return route.getStatus().getParents().stream()
        .filter(p -> OURS.equals(p.getControllerName())).findFirst().orElse(null);
  }

  /** Another implementation also serves this route (through its own Gateway). */
  private void seedOtherControllersStatus(String name) {
    HTTPRoute route = route(name);
    RouteParentStatus other = new RouteParentStatus();
    other.setControllerName(OTHER);
    ParentReference ref = new ParentReference();
    ref.setName("their-gateway");
    other.setParentRef(ref);
    Condition accepted = new Condition();
    accepted.setType("Accepted");
    accepted.setStatus("True");
    accepted.setReason("Accepted");
    accepted.setMessage("theirs");
    accepted.setLastTransitionTime("2026-01-01T00:00:00Z");
    other.setConditions(List.of(accepted));
    HTTPRouteStatus status = new HTTPRouteStatus();
    status.setParents(List.of(other));
    route.setStatus(status);
    client.resource(route).updateStatus();
  }

  /** Creates or replaces every object of {@code yaml} (kubectl apply, more or less). */
  private void apply(String yaml) {
    List<HasMetadata> objects = client.load(
        new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    for (HasMetadata object : objects) {
      if (object.getMetadata().getNamespace() == null && !clusterScoped(object)) {
        object.getMetadata().setNamespace("default");
      }
      client.resource(object).createOr(existing -> existing.update());
    }
  }

  private static boolean clusterScoped(HasMetadata object) {
    return object instanceof GatewayClass
        || Objects.equals(object.getKind(), "Namespace");
  }

  private static String gatewayYaml(String name, int port) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec:
          controllerName: %s
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: %s, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: http, protocol: HTTP, port: %d}
        """.formatted(OURS, name, port);
  }

  /**
   * A Service {@code name} (port {@code servicePort} named {@code portName}) with one ready pod
   * on 127.0.0.1:{@code podPort}, our GatewayClass and a Gateway {@code edge} with
   * {@code listener}; ends with a document separator, for the route that follows.
   */
  private static String podBehindGatewayYaml(String name, String portName, int servicePort,
      int podPort, String listener) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %1$s, namespace: default}
        spec:
          ports: [{name: %2$s, port: %3$d, targetPort: %2$s}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %1$s-1
          namespace: default
          labels: {kubernetes.io/service-name: %1$s}
        addressType: IPv4
        ports: [{name: %2$s, port: %4$d}]
        endpoints:
        - addresses: [127.0.0.1]
          conditions: {ready: true}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec: {controllerName: %5$s}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: edge, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - %6$s
        ---
        """.formatted(name, portName, servicePort, podPort, OURS, listener);
  }

  private static String routeYaml(String name, String host, String service) {
    return routeYaml(name, host, service, "web");
  }

  private static String routeYaml(String name, String host, String service, String gateway) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: %s, namespace: default}
        spec:
          parentRefs: [{name: %s}]
          hostnames: [%s]
          rules:
          - backendRefs: [{name: %s, port: 80}]
        """.formatted(name, gateway, host, service);
  }
}
