package io.portico.provider;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves the Kubernetes objects in a directory of YAML files (standalone mode), delivering a new
 * {@link ResourceSnapshot} whenever the files change.
 *
 * <p>The directory is read recursively ({@code *.yaml}, {@code *.yml}, {@code *.json}; names
 * starting with '.' skipped, symbolic links followed, so a mounted ConfigMap works). Changes are
 * watched on a daemon thread and coalesced; only the files the events name are read again
 * (the whole tree when a directory or link changed, or events were lost), and only those whose
 * content changed are parsed again. A snapshot is delivered, on the Vert.x context that called
 * {@link #start()}, only if it differs from the last one.
 *
 * <p>Bad input loses nothing: a file that fails to parse keeps serving the objects of its last
 * good read, an object that is rejected keeps its last good version, and of two definitions of
 * the same object the first (by path, then position) wins. Every problem is logged once per
 * reload and available from {@link #problems()}. Objects get Kubernetes-like metadata
 * (generation, creationTimestamp, uid, resourceVersion) that stays stable across reloads.
 */
public final class FileProvider implements Provider, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FileProvider.class);

  /**
   * Tunes how changes are coalesced and when a changed file counts as completely written.
   *
   * @param holdOff how long to wait after the last change before re-reading
   * @param ceiling how long at most to wait after the first change, however many follow
   * @param settle how long a changed file's size and modification time must hold still before
   *     it is read (a file written in place is never read half-written; see SettledFiles)
   * @param settleMaxWait how long at most one reload waits for a file to settle; a file still
   *     changing then keeps its last complete version until the next reload
   */
  public record Options(Duration holdOff, Duration ceiling, Duration settle,
      Duration settleMaxWait) {

    /**
     * A 10 ms hold-off, a 500 ms ceiling, a 50 ms settle interval waited for up to 1 s. The
     * hold-off and the settle interval are a floor under every change's latency: they were
     * 50 and 100 ms. A reload now reads only the files named and the translator takes only
     * the newest snapshot, so a burst split into several reloads costs little; files renamed
     * into place (what the README recommends, and what editors and ConfigMap volumes do) skip
     * the settle interval, and 50 ms still covers a file written in place in several quick
     * writes (cp, an editor's truncate and write).
     */
    public static final Options DEFAULTS = new Options(Duration.ofMillis(10),
        Duration.ofMillis(500), Duration.ofMillis(50), Duration.ofSeconds(1));

    /** Options with the default settle interval. */
    public Options(Duration holdOff, Duration ceiling) {
      this(holdOff, ceiling, DEFAULTS.settle(), DEFAULTS.settleMaxWait());
    }

    public Options {
      Objects.requireNonNull(holdOff, "holdOff");
      Objects.requireNonNull(ceiling, "ceiling");
      Objects.requireNonNull(settle, "settle");
      Objects.requireNonNull(settleMaxWait, "settleMaxWait");
      if (holdOff.isNegative() || ceiling.compareTo(holdOff) < 0) {
        throw new IllegalArgumentException(
            "need 0 <= holdOff <= ceiling, got " + holdOff + " and " + ceiling);
      }
      if (settle.isNegative() || settleMaxWait.compareTo(settle) < 0) {
        throw new IllegalArgumentException(
            "need 0 <= settle <= settleMaxWait, got " + settle + " and " + settleMaxWait);
      }
    }
  }

  private final Vertx vertx;
  private final Path directory;
  private final Options options;
  private final SnapshotSink onSnapshot;
  private final ParsedFiles reader;
  private final SnapshotAssembler assembler;
  private final SettledFiles settledFiles;
  private final AtomicBoolean started = new AtomicBoolean();
  private final Object lock = new Object();
  private volatile boolean stopped;
  private volatile List<ConfigProblem> problems = List.of();
  private volatile Context context;
  private volatile DirectoryWatcher watcher;
  private ResourceSnapshot delivered;
  /** What the last reload read; null before the first. Guarded by {@link #lock}. */
  private DirectoryScan.Scan lastScan;
  /** How many reloads walked the whole tree: tests check the others did not. */
  private final java.util.concurrent.atomic.AtomicLong wholeReads =
      new java.util.concurrent.atomic.AtomicLong();

  /** Creates a provider for {@code directory} with the default {@link Options}. */
  public FileProvider(Vertx vertx, Path directory, SnapshotSink onSnapshot) {
    this(vertx, directory, Options.DEFAULTS, onSnapshot);
  }

  /** Creates a provider for {@code directory}; nothing is read before {@link #start()}. */
  public FileProvider(Vertx vertx, Path directory, Options options, SnapshotSink onSnapshot) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.directory = Objects.requireNonNull(directory, "directory");
    this.options = Objects.requireNonNull(options, "options");
    this.onSnapshot = Objects.requireNonNull(onSnapshot, "onSnapshot");
    KubernetesSerialization serialization = new KubernetesSerialization();
    this.reader = new ParsedFiles(new YamlResourceReader(serialization));
    this.assembler =
        new SnapshotAssembler(new MetadataStamper(serialization, Clock.systemUTC()));
    this.settledFiles = new SettledFiles(options.settle(), options.settleMaxWait());
  }

  /** Returns the directory this provider reads. */
  public Path directory() {
    return directory;
  }

  /**
   * Reads the directory, delivers the first snapshot, then watches for changes. Fails, naming the
   * path, if the directory does not exist or cannot be read.
   */
  @Override
  public Future<Void> start() {
    if (!started.compareAndSet(false, true)) {
      return Future.failedFuture(new IllegalStateException("FileProvider already started"));
    }
    Context ctx = vertx.getOrCreateContext();
    context = ctx;
    Promise<Void> promise = Promise.promise();
    ctx.executeBlocking(this::firstRead, false).onComplete(result -> {
      if (result.failed()) {
        closeWatcher();
        promise.fail(result.cause());
      } else if (stopped) {
        closeWatcher();
        promise.fail(new IllegalStateException("FileProvider stopped while starting"));
      } else {
        try {
          onSnapshot.accept(result.result());
        } catch (RuntimeException e) {
          closeWatcher();
          promise.fail(e);
          return;
        }
        watcher.start();
        promise.complete();
      }
    });
    return promise.future();
  }

  private ResourceSnapshot firstRead() throws IOException {
    DirectoryScan.checkDirectory(directory);
    // Watch before reading, so that a change made during the read is seen.
    watcher = new DirectoryWatcher(directory, options.holdOff(), options.ceiling(),
        this::reloadAndDeliver);
    synchronized (lock) {
      long startNanos = System.nanoTime();
      ResourceSnapshot snapshot = reload(DirectoryWatcher.Changes.rescan(SnapshotSink.UNTIMED));
      if (snapshot == null) {
        throw new IOException(problems.get(0).message());
      }
      // At thousands of files, reading them is most of a start: say how long it took.
      LOG.info("read {} file(s) under {} in {} ms", lastScan.files().size(), directory,
          (System.nanoTime() - startNanos) / 1_000_000);
      delivered = snapshot;
      return snapshot;
    }
  }

  /** Runs on the watcher thread. */
  private void reloadAndDeliver(DirectoryWatcher.Changes changes) {
    ResourceSnapshot snapshot;
    synchronized (lock) {
      if (stopped) {
        return;
      }
      snapshot = reload(changes);
      if (snapshot == null || snapshot.equals(delivered)) {
        return;
      }
      delivered = snapshot;
    }
    context.runOnContext(v -> {
      if (!stopped) {
        onSnapshot.accept(snapshot, changes.firstEventNanos());
      }
    });
  }

  /**
   * Reads what changed (everything, the first time and whenever the watcher cannot name all
   * that changed); returns null, keeping all as it was, if the directory cannot be read.
   */
  private ResourceSnapshot reload(DirectoryWatcher.Changes changes) {
    ResourceSnapshot snapshot;
    List<ConfigProblem> found;
    try {
      DirectoryScan.Scan scan;
      if (lastScan == null || changes.rescan()) {
        scan = DirectoryScan.read(directory, reader, settledFiles, watcher::register);
        watcher.throughLinks(scan.throughLinks());
        wholeReads.incrementAndGet();
      } else {
        scan = DirectoryScan.update(directory, lastScan, changes.files(), reader, settledFiles);
        if (scan == lastScan) {
          return delivered; // nothing that is read changed
        }
      }
      lastScan = scan;
      SnapshotAssembler.Assembly assembly = assembler.assemble(scan);
      snapshot = ResourceSnapshot.of(assembly.objects());
      found = List.copyOf(assembly.problems());
    } catch (IOException | RuntimeException e) {
      snapshot = null;
      String why = e instanceof IOException ? e.getMessage() : e.toString();
      found = List.of(ConfigProblem.error(directory.toString(), 0,
          why + "; the last snapshot is still served"));
    }
    List<ConfigProblem> previous = problems;
    problems = found;
    for (ConfigProblem problem : found) {
      // Said once: a problem that persists across reloads (an unused kind in a shared file)
      // would otherwise fill the log at every edit.
      if (previous.contains(problem)) {
        continue;
      }
      if (problem.isError()) {
        LOG.error("{}", problem);
      } else {
        LOG.warn("{}", problem);
      }
    }
    return snapshot;
  }

  /** Returns how many reloads walked the whole directory tree (the first one did); for tests. */
  long wholeReads() {
    return wholeReads.get();
  }

  /** Returns how many reloads assembled every file, not only those that changed; for tests. */
  long wholeAssemblies() {
    synchronized (lock) {
      return assembler.wholeAssemblies();
    }
  }

  /** Returns the problems found by the last reload; thread-safe. */
  @Override
  public List<ConfigProblem> problems() {
    return problems;
  }

  /** Stops watching; no snapshot is delivered after this. */
  @Override
  public Future<Void> stop() {
    stopped = true;
    closeWatcher();
    return Future.succeededFuture();
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  private void closeWatcher() {
    DirectoryWatcher w = watcher;
    if (w != null) {
      w.close();
    }
  }
}
