package io.portico.provider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Calls back, on its own daemon thread, when anything changes in the directories it watches,
 * coalescing bursts of events.
 *
 * <p>It watches directories rather than files, so that editors that replace a file (write a
 * temporary file and rename it) and ConfigMap volumes that swap a {@code ..data} link are seen.
 * After an event it waits until there has been none for the hold-off, but never longer than the
 * ceiling after the first, then calls back once, with the files the events named.
 */
final class DirectoryWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryWatcher.class);

  private final WatchService service;
  private final Map<Path, WatchKey> keys = new ConcurrentHashMap<>();
  private final long holdOffNanos;
  private final long ceilingNanos;
  private final Consumer<Changes> onChange;
  private final Thread thread;
  private volatile boolean closed;
  /** The paths named by the events of the batch being collected; the watcher thread's. */
  private Map<Path, Boolean> batch = new HashMap<>();
  private boolean batchNeedsScan;
  /** Whether the last scan read anything through a symbolic link; see {@link #note}. */
  private volatile boolean throughLinks = true;

  /**
   * What changed in one batch of events.
   *
   * @param rescan true when the files named are not all that may have changed, and the whole
   *     tree must be read again: a directory (or a link to one) was added, removed or replaced
   *     (this includes a ConfigMap volume's hidden {@code ..data} swap), or events were lost
   * @param files the files named by the events, with true for those that only appeared (created
   *     or renamed into place: no event said they were written to afterwards)
   * @param firstEventNanos {@link System#nanoTime()} when the first event of the batch was taken
   *     from the watch service ({@link SnapshotSink#UNTIMED} for a read no event caused)
   */
  record Changes(boolean rescan, Map<Path, Boolean> files, long firstEventNanos) {

    Changes {
      files = Map.copyOf(files);
    }

    static Changes rescan(long firstEventNanos) {
      return new Changes(true, Map.of(), firstEventNanos);
    }
  }

  DirectoryWatcher(Path root, Duration holdOff, Duration ceiling, Consumer<Changes> onChange)
      throws IOException {
    this.service = root.getFileSystem().newWatchService();
    this.holdOffNanos = holdOff.toNanos();
    this.ceilingNanos = ceiling.toNanos();
    this.onChange = onChange;
    this.thread = new Thread(this::run, "portico-config-watcher " + root);
    this.thread.setDaemon(true);
  }

  /** Watches {@code dir} too, unless it is already watched; never throws. */
  void register(Path dir) {
    WatchKey existing = keys.get(dir);
    if (closed || (existing != null && existing.isValid())) {
      return;
    }
    try {
      keys.put(dir, dir.register(service, StandardWatchEventKinds.ENTRY_CREATE,
          StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY));
    } catch (IOException | ClosedWatchServiceException e) {
      // The next scan registers it again if it still exists.
      LOG.debug("cannot watch {}: {}", dir, e.toString());
    }
  }

  /**
   * Says whether the tree read last holds symbolic links: if not, changes to hidden names are
   * ignored (until told otherwise they are not).
   */
  void throughLinks(boolean links) {
    throughLinks = links;
  }

  /** Starts calling back on changes. */
  void start() {
    thread.start();
  }

  private void run() {
    try {
      while (!closed) {
        drain(service.take());
        long first = System.nanoTime();
        long last = first;
        while (true) {
          long wait = Math.min(last + holdOffNanos, first + ceilingNanos) - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          WatchKey key = service.poll(wait, TimeUnit.NANOSECONDS);
          if (key != null) {
            drain(key);
            last = System.nanoTime();
          }
        }
        if (closed) {
          return;
        }
        Changes changes = batchNeedsScan ? Changes.rescan(first) : new Changes(false, batch, first);
        batch = new HashMap<>();
        batchNeedsScan = false;
        try {
          onChange.accept(changes);
        } catch (RuntimeException e) {
          LOG.error("reloading the configuration failed", e);
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  private void drain(WatchKey key) {
    Path dir = key.watchable() instanceof Path path ? path : null;
    for (WatchEvent<?> event : key.pollEvents()) {
      if (dir == null || !(event.context() instanceof Path name)) {
        batchNeedsScan = true; // OVERFLOW: events were lost
        continue;
      }
      note(dir.resolve(name), event.kind() == StandardWatchEventKinds.ENTRY_CREATE);
    }
    if (!key.reset()) {
      keys.values().remove(key);
      batchNeedsScan = true;
    }
  }

  /**
   * Adds one event's path to the batch, or asks for a whole scan when the path is (or was) a
   * directory: only a scan registers new directories and finds the files under them.
   */
  private void note(Path path, boolean created) {
    if (batchNeedsScan) {
      return;
    }
    if (path.getFileName().toString().startsWith(".")) {
      // Hidden names are never read: an editor's swap file, or a file written aside and
      // renamed into place. Only through a link can one matter: a ConfigMap volume's visible
      // files point through its hidden ..data link, swapped at each update.
      batchNeedsScan = throughLinks;
      return;
    }
    if (keys.containsKey(path) || Files.isDirectory(path)) {
      batchNeedsScan = true;
      return;
    }
    // Created in this batch and not written since: renamed into place, or created empty.
    batch.merge(path, created, (before, now) -> before && now);
  }

  @Override
  public void close() {
    closed = true;
    try {
      service.close();
    } catch (IOException e) {
      LOG.debug("closing the watch service: {}", e.toString());
    }
  }
}
