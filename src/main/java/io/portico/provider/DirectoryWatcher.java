package io.portico.provider;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Calls back, on its own daemon thread, when anything changes in the directories it watches,
 * coalescing bursts of events.
 *
 * <p>It watches directories rather than files, so that editors that replace a file (write a
 * temporary file and rename it) and ConfigMap volumes that swap a {@code ..data} link are seen.
 * After an event it waits until there has been none for the hold-off, but never longer than the
 * ceiling after the first, then calls back once.
 */
final class DirectoryWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DirectoryWatcher.class);

  private final WatchService service;
  private final Map<Path, WatchKey> keys = new ConcurrentHashMap<>();
  private final long holdOffNanos;
  private final long ceilingNanos;
  private final Runnable onChange;
  private final Thread thread;
  private volatile boolean closed;

  DirectoryWatcher(Path root, Duration holdOff, Duration ceiling, Runnable onChange)
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
        try {
          onChange.run();
        } catch (RuntimeException e) {
          LOG.error("reloading the configuration failed", e);
        }
      }
    } catch (InterruptedException | ClosedWatchServiceException e) {
      // closed
    }
  }

  private void drain(WatchKey key) {
    key.pollEvents();
    if (!key.reset()) {
      keys.values().remove(key);
    }
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
