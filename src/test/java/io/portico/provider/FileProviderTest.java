package io.portico.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.groups.Tuple.tuple;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ConfigProblem.Severity;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class FileProviderTest {

  private static final long TIMEOUT_SECONDS = 10;

  @TempDir Path dir;

  private final LinkedBlockingQueue<ResourceSnapshot> snapshots = new LinkedBlockingQueue<>();
  private final List<ResourceSnapshot> delivered = new CopyOnWriteArrayList<>();
  private final List<Boolean> onStartContext = new CopyOnWriteArrayList<>();
  /** Per snapshot delivered: the change time it came with, and when it was delivered. */
  private final Map<ResourceSnapshot, long[]> changeTimes =
      new java.util.concurrent.ConcurrentHashMap<>();
  private FileProvider provider;

  @AfterEach
  void stopProvider() {
    if (provider != null) {
      provider.close();
    }
  }

  // ---- helpers

  private static String service(String name, String label) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          labels:
            tag: %s
        spec:
          ports:
          - port: 80
        """.formatted(name, label);
  }

  private static String route(String label, String path) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: route
          labels:
            tag: %s
        spec:
          rules:
          - matches:
            - path:
                value: %s
        """.formatted(label, path);
  }

  private static String gateway(int port) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: gw
        spec:
          gatewayClassName: portico
          listeners:
          - name: http
            port: %d
            protocol: HTTP
        """.formatted(port);
  }

  /** Starts the provider on a context of its own and returns its first snapshot. */
  private ResourceSnapshot start(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    provider = new FileProvider(vertx, dir, (snapshot, firstChangeNanos) -> {
      onStartContext.add(Vertx.currentContext() == context);
      changeTimes.put(snapshot, new long[] {firstChangeNanos, System.nanoTime()});
      delivered.add(snapshot);
      snapshots.add(snapshot);
    });
    CompletableFuture<Void> started = new CompletableFuture<>();
    context.runOnContext(v -> provider.start().onComplete(result -> {
      if (result.succeeded()) {
        started.complete(null);
      } else {
        started.completeExceptionally(result.cause());
      }
    }));
    started.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return next();
  }

  private ResourceSnapshot next() throws InterruptedException {
    ResourceSnapshot snapshot = snapshots.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (snapshot == null) {
      fail("no snapshot within " + TIMEOUT_SECONDS + " s; problems: " + provider.problems());
    }
    return snapshot;
  }

  /** Waits for the first snapshot that satisfies {@code condition}. */
  private ResourceSnapshot awaitSnapshot(Predicate<ResourceSnapshot> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (true) {
      long left = deadline - System.nanoTime();
      ResourceSnapshot snapshot = snapshots.poll(Math.max(left, 0), TimeUnit.NANOSECONDS);
      if (snapshot == null) {
        fail("no matching snapshot within " + TIMEOUT_SECONDS + " s; last delivered: "
            + (delivered.isEmpty() ? "none" : keys(delivered.get(delivered.size() - 1)))
            + "; problems: " + provider.problems());
      }
      if (condition.test(snapshot)) {
        return snapshot;
      }
    }
  }

  private static List<String> keys(ResourceSnapshot snapshot) {
    return snapshot.all().stream().map(o -> ObjectKey.of(o).toString()).toList();
  }

  private static Predicate<ResourceSnapshot> hasService(String name) {
    return s -> s.services().stream().anyMatch(o -> o.getMetadata().getName().equals(name));
  }

  private static String label(HasMetadata object) {
    return object.getMetadata().getLabels().get("tag");
  }

  /** Returns the label of the only Service, or null; a snapshot may be read mid-write. */
  private static String serviceLabel(ResourceSnapshot snapshot) {
    return snapshot.services().size() == 1 ? label(snapshot.services().get(0)) : null;
  }

  /** Writes like an editor that saves to a temporary file and renames it over the original. */
  private static void replace(Path file, String content) throws Exception {
    Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(temp, content);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  // ---- tests

  @Test
  void firstSnapshotHoldsEveryFileRecursivelyAndIsDeliveredOnTheStartingContext(Vertx vertx)
      throws Exception {
    Files.writeString(dir.resolve("a.yaml"), service("a", "1"));
    Files.createDirectories(dir.resolve("sub/deeper"));
    Files.writeString(dir.resolve("sub/deeper/b.yml"), service("b", "1"));
    Files.writeString(dir.resolve("sub/c.json"),
        "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"c\"}}");
    Files.writeString(dir.resolve(".hidden.yaml"), service("hidden", "1"));
    Files.writeString(dir.resolve("notes.txt"), service("txt", "1"));

    ResourceSnapshot snapshot = start(vertx);

    assertThat(keys(snapshot))
        .containsExactly("Service/default/a", "Service/default/c", "Service/default/b");
    assertThat(onStartContext).containsExactly(true);
    assertThat(provider.problems()).isEmpty();
  }

  @Test
  void aChangedFileIsDeliveredWithWhenItsEventWasSeen(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve("a.yaml"), service("a", "1"));
    ResourceSnapshot first = start(vertx);
    assertThat(changeTimes.get(first)[0]).as("the start's snapshot: no change caused it")
        .isEqualTo(SnapshotSink.UNTIMED);

    long beforeWrite = System.nanoTime();
    replace(dir.resolve("a.yaml"), service("a", "2"));
    ResourceSnapshot second = awaitSnapshot(s -> "2".equals(label(s.services().get(0))));

    long[] times = changeTimes.get(second);
    assertThat(times[0]).as("seen after the write").isGreaterThan(beforeWrite);
    // Seen before the hold-off that batches events, so before the delivery by at least that.
    assertThat(times[1] - times[0]).as("delivered after it was seen")
        .isGreaterThanOrEqualTo(FileProvider.Options.DEFAULTS.holdOff().toNanos());
  }

  @Test
  void onlyChangedFilesAreParsedAgain(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve("a.yaml"), service("a", "1"));
    Files.writeString(dir.resolve("b.yaml"), service("b", "1"));
    ResourceSnapshot first = start(vertx);

    replace(dir.resolve("b.yaml"), service("b", "2"));
    ResourceSnapshot second = awaitSnapshot(s -> s.services().stream()
        .anyMatch(o -> o.getMetadata().getName().equals("b") && "2".equals(label(o))));

    // The unchanged file's object is the very same instance: not parsed, not stamped again, so
    // everything downstream (the endpoint fast path included) settles it by identity.
    assertThat(second.services().get(0)).isSameAs(first.services().get(0));
    assertThat(second.services().get(1)).isNotSameAs(first.services().get(1));
    assertThat(second.services().get(1).getMetadata().getResourceVersion())
        .isNotEqualTo(first.services().get(1).getMetadata().getResourceVersion());
  }

  @Test
  void fileRewrittenInPlaceWithTheSameSizeIsReadAgain(Vertx vertx) throws Exception {
    // Files are skipped by size, modification time and inode: an in-place write of the same
    // size keeps two of the three, and must still be seen.
    Files.writeString(dir.resolve("a.yaml"), service("a", "1"));
    Files.writeString(dir.resolve("b.yaml"), service("b", "1"));
    start(vertx);

    Files.writeString(dir.resolve("a.yaml"), service("a", "2"));
    ResourceSnapshot changed = awaitSnapshot(s -> s.services().stream()
        .anyMatch(o -> o.getMetadata().getName().equals("a") && "2".equals(label(o))));
    Files.writeString(dir.resolve("a.yaml"), service("a", "3"));
    awaitSnapshot(s -> s.services().stream()
        .anyMatch(o -> o.getMetadata().getName().equals("a") && "3".equals(label(o))));

    assertThat(changed.services()).hasSize(2);
  }

  @Test
  void startFailsNamingTheMissingDirectory(Vertx vertx) {
    Path missing = dir.resolve("nope");
    provider = new FileProvider(vertx, missing,
        (snapshot, changeNanos) -> fail("no snapshot expected"));

    CompletableFuture<Void> started = provider.start().toCompletionStage().toCompletableFuture();

    assertThat(started).failsWithin(TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .withMessageContaining(missing.toString())
        .withMessageContaining("does not exist");
  }

  @Test
  void changedFileDeliversANewSnapshot(Vertx vertx) throws Exception {
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, service("a", "1"));
    start(vertx);

    Files.writeString(file, service("a", "1") + "---\n" + service("b", "1"));

    ResourceSnapshot snapshot = awaitSnapshot(hasService("b"));
    assertThat(keys(snapshot)).containsExactly("Service/default/a", "Service/default/b");
    assertThat(onStartContext).containsOnly(true);
  }

  @Test
  void newFileInANewSubdirectoryAndDeletedFileArePickedUp(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve("a.yaml"), service("a", "1"));
    start(vertx);

    Files.createDirectories(dir.resolve("new/sub"));
    Files.writeString(dir.resolve("new/sub/b.yaml"), service("b", "1"));
    awaitSnapshot(hasService("b"));
    Files.delete(dir.resolve("a.yaml"));

    ResourceSnapshot snapshot = awaitSnapshot(hasService("a").negate());
    assertThat(keys(snapshot)).containsExactly("Service/default/b");
  }

  @Test
  void fileReplacedByRenameIsPickedUp(Vertx vertx) throws Exception {
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, service("a", "1"));
    start(vertx);

    replace(file, service("a", "2"));

    ResourceSnapshot snapshot =
        awaitSnapshot(s -> "2".equals(serviceLabel(s)));
    assertThat(keys(snapshot)).containsExactly("Service/default/a");
  }

  @Test
  void aChangedFileIsReadWithoutWalkingTheTreeButANewDirectoryIs(Vertx vertx) throws Exception {
    for (int i = 0; i < 20; i++) {
      Files.writeString(dir.resolve("s" + i + ".yaml"), service("s" + i, "1"));
    }
    ResourceSnapshot first = start(vertx);
    assertThat(provider.wholeReads()).isEqualTo(1);

    replace(dir.resolve("s7.yaml"), service("s7", "2"));
    Files.delete(dir.resolve("s3.yaml"));
    Files.writeString(dir.resolve("s20.yaml"), service("s20", "1"));
    ResourceSnapshot second = awaitSnapshot(s -> s.services().size() == 20
        && hasService("s20").test(s) && !hasService("s3").test(s)
        && s.services().stream().anyMatch(o -> o.getMetadata().getName().equals("s7")
            && "2".equals(label(o))));
    assertThat(provider.wholeReads()).as("only the files the watcher named were read")
        .isEqualTo(1);
    assertThat(provider.wholeAssemblies()).as("only the files that changed were assembled")
        .isEqualTo(1);
    assertThat(second.services()).contains(first.services().get(0));

    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/t.yaml"), service("t", "1"));
    awaitSnapshot(hasService("t"));
    assertThat(provider.wholeReads()).as("a new directory is walked").isGreaterThan(1);
    Files.writeString(dir.resolve("sub/u.yaml"), service("u", "1"));
    awaitSnapshot(hasService("u"));
  }

  @Test
  void configMapStyleDataLinkSwapIsPickedUp(Vertx vertx) throws Exception {
    // The layout kubelet gives a ConfigMap volume: visible names link through ..data.
    Files.createDirectories(dir.resolve("..2024_01"));
    Files.writeString(dir.resolve("..2024_01/svc.yaml"), service("a", "1"));
    Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2024_01"));
    Files.createSymbolicLink(dir.resolve("svc.yaml"), Path.of("..data/svc.yaml"));
    ResourceSnapshot first = start(vertx);
    assertThat(keys(first)).containsExactly("Service/default/a");

    Files.createDirectories(dir.resolve("..2024_02"));
    Files.writeString(dir.resolve("..2024_02/svc.yaml"), service("a", "2"));
    Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2024_02"));
    Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);

    ResourceSnapshot snapshot =
        awaitSnapshot(s -> "2".equals(serviceLabel(s)));
    assertThat(keys(snapshot)).containsExactly("Service/default/a");
  }

  @Test
  void malformedYamlLeavesTheLastGoodObjectsOfThatFileServed(Vertx vertx) throws Exception {
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, service("a", "1"));
    start(vertx);

    Files.writeString(file, "apiVersion: v1\nkind: Service\n metadata:\n  name: a\n");
    // Written after the break, so any snapshot holding it was read after the break too.
    Files.writeString(dir.resolve("marker.yaml"), service("marker", "1"));

    ResourceSnapshot snapshot = awaitSnapshot(hasService("marker"));
    // marker.yaml sorts before svc.yaml
    assertThat(keys(snapshot)).containsExactly("Service/default/marker", "Service/default/a");
    assertThat(label(snapshot.services().get(1))).isEqualTo("1");
    assertThat(provider.problems()).extracting(ConfigProblem::severity, ConfigProblem::line)
        .containsExactly(
            tuple(Severity.ERROR, 3),
            tuple(Severity.WARNING, 0));
    assertThat(provider.problems().get(1).toString())
        .isEqualTo(file + ": the last good version of " + file + " is still served");
  }

  @Test
  void rejectedObjectKeepsItsLastGoodVersionWhileItsSiblingsUpdate(Vertx vertx)
      throws Exception {
    Path file = dir.resolve("gw.yaml");
    Files.writeString(file, gateway(8080) + "---\n" + service("a", "1"));
    start(vertx);

    Files.writeString(file, gateway(0) + "---\n" + service("a", "2"));

    ResourceSnapshot snapshot = awaitSnapshot(s -> "2".equals(serviceLabel(s)));
    assertThat(snapshot.gateways()).singleElement().satisfies(gw ->
        assertThat(gw.getSpec().getListeners().get(0).getPort()).isEqualTo(8080));
    assertThat(provider.problems()).extracting(ConfigProblem::toString).containsExactly(
        file + ":1: Gateway/default/gw: spec.listeners[0].port must be between 1 and 65535,"
            + " not 0",
        file + ":1: Gateway/default/gw: the last good version is still served");
  }

  @Test
  void sameObjectDefinedTwiceKeepsTheFirstByPathAndReportsBothPlaces(Vertx vertx)
      throws Exception {
    Files.writeString(dir.resolve("a.yaml"), service("x", "from-a"));
    Files.writeString(dir.resolve("b.yaml"), "# comment\n" + service("x", "from-b"));

    ResourceSnapshot snapshot = start(vertx);

    assertThat(snapshot.services()).singleElement()
        .satisfies(s -> assertThat(label(s)).isEqualTo("from-a"));
    assertThat(provider.problems()).extracting(ConfigProblem::toString).containsExactly(
        dir.resolve("b.yaml") + ":2: Service/default/x is already defined at "
            + dir.resolve("a.yaml") + ":1; this definition is ignored");
  }

  @Test
  void generationBumpsOnSpecChangeOnlyAndUidAndCreationTimestampStayStable(Vertx vertx)
      throws Exception {
    Path file = dir.resolve("route.yaml");
    Files.writeString(file, route("1", "/a"));
    Files.writeString(dir.resolve("other.yaml"), service("other", "1"));
    ResourceSnapshot first = start(vertx);
    ObjectMeta meta1 = first.httpRoutes().get(0).getMetadata();
    assertThat(meta1.getGeneration()).isEqualTo(1L);
    assertThat(meta1.getUid()).isNotBlank();
    assertThat(meta1.getCreationTimestamp()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    String otherVersion = first.services().get(0).getMetadata().getResourceVersion();

    Files.writeString(file, route("2", "/a"));
    ResourceSnapshot relabelled = awaitSnapshot(
        s -> s.httpRoutes().size() == 1 && "2".equals(label(s.httpRoutes().get(0))));
    ObjectMeta meta2 = relabelled.httpRoutes().get(0).getMetadata();
    assertThat(meta2.getGeneration()).isEqualTo(1L);
    assertThat(meta2.getResourceVersion()).isNotEqualTo(meta1.getResourceVersion());

    Files.writeString(file, route("2", "/b"));
    ResourceSnapshot respecced = awaitSnapshot(s -> s.httpRoutes().size() == 1
        && s.httpRoutes().get(0).getSpec().getRules().get(0).getMatches().get(0).getPath()
            .getValue().equals("/b"));
    HTTPRoute route = respecced.httpRoutes().get(0);
    assertThat(route.getMetadata().getGeneration()).isEqualTo(2L);
    assertThat(route.getMetadata().getUid()).isEqualTo(meta1.getUid());
    assertThat(route.getMetadata().getCreationTimestamp())
        .isEqualTo(meta1.getCreationTimestamp());
    assertThat(respecced.services().get(0).getMetadata().getResourceVersion())
        .isEqualTo(otherVersion);
    // Objects of a delivered snapshot are never changed afterwards.
    assertThat(first.httpRoutes().get(0).getMetadata().getGeneration()).isEqualTo(1L);
    assertThat(label(first.httpRoutes().get(0))).isEqualTo("1");
  }

  @Test
  void creationTimestampGivenInYamlIsKept(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve("gw.yaml"), gateway(80).replace("  name: gw\n",
        "  name: gw\n  creationTimestamp: \"2020-01-02T03:04:05Z\"\n"));

    Gateway gateway = start(vertx).gateways().get(0);

    assertThat(gateway.getMetadata().getCreationTimestamp()).isEqualTo("2020-01-02T03:04:05Z");
    assertThat(gateway.getMetadata().getGeneration()).isEqualTo(1L);
  }

  @Test
  void rewritingTheSameContentDeliversNoSnapshot(Vertx vertx) throws Exception {
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, service("a", "1"));
    start(vertx);

    Files.writeString(file, service("a", "1"));
    Files.writeString(dir.resolve("marker.yaml"), service("marker", "1"));

    awaitSnapshot(hasService("marker"));
    assertThat(delivered).hasSize(2);
  }

  @Test
  void burstOfQuickWritesIsCoalescedAndEndsWithTheFinalContent(Vertx vertx) throws Exception {
    Path file = dir.resolve("svc.yaml");
    Files.writeString(file, service("a", "0"));
    start(vertx);

    for (int i = 1; i <= 20; i++) {
      Files.writeString(file, service("a", Integer.toString(i)));
    }

    awaitSnapshot(s -> "20".equals(serviceLabel(s)));
    List<ResourceSnapshot> afterStart = new ArrayList<>(delivered.subList(1, delivered.size()));
    assertThat(afterStart).hasSizeLessThan(20);
  }
}
