package io.portico.provider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Reads a configuration file only once it is complete: its size and modification time must have
 * held still for the settle interval, and must be the same after the read as before it.
 *
 * <p>Editors and ConfigMap volumes replace a file by renaming a complete one over it, but
 * {@code cat > routes.yaml}, {@code cp} and many deployment tools write in place: a reload that
 * runs mid-write would parse the first half, which may well be valid YAML missing its last
 * rules, and serve it as the file's new version. Each write moves the modification time, so a
 * file whose size and time have not moved for the settle interval is taken as written; one that
 * is still moving when the wait runs out is not read (the caller keeps its last complete
 * version, and the writes still to come trigger another reload). Blocks the calling thread (the
 * configuration watcher's, never an event loop).
 */
final class SettledFiles {

  /** Waits; a seam for tests, which act as the concurrent writer while the reader waits. */
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  private final Duration settle;
  private final Duration maxWait;
  private final Clock clock;
  private final Sleeper sleeper;

  /**
   * @param settle how long size and modification time must hold still
   * @param maxWait how long to wait at most for a file that keeps changing
   */
  SettledFiles(Duration settle, Duration maxWait) {
    this(settle, maxWait, Clock.systemUTC(), d -> Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000));
  }

  SettledFiles(Duration settle, Duration maxWait, Clock clock, Sleeper sleeper) {
    this.settle = Objects.requireNonNull(settle, "settle");
    this.maxWait = Objects.requireNonNull(maxWait, "maxWait");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
  }

  /** A file's size and modification time. */
  private record Stamp(long size, long modifiedNanos) {
    static Stamp of(Path file) throws IOException {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return new Stamp(attributes.size(),
          attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS));
    }
  }

  /**
   * Returns the content of {@code file} once it has settled, or null when it was still changing
   * after the longest wait.
   *
   * @param appeared the file was renamed into place (the watcher saw it appear and saw no write
   *     to it since): it is complete, so it is read at once unless it is empty (then it may
   *     have just been created by a writer still to write it) or changes while being read
   * @throws IOException when it cannot be read (deleted, permissions, not UTF-8)
   */
  String read(Path file, boolean appeared) throws IOException {
    long deadline = nowNanos() + maxWait.toNanos();
    while (true) {
      Stamp before = Stamp.of(file);
      long quietNanos = nowNanos() - before.modifiedNanos();
      boolean complete = appeared && before.size() > 0;
      if (!complete && quietNanos < settle.toNanos()) {
        // Written within the settle interval (or dated in the future): wait for the rest of
        // it, at most the interval, and see whether anything moved meanwhile.
        long waitNanos = Math.min(settle.toNanos() - quietNanos, settle.toNanos());
        if (nowNanos() + waitNanos > deadline) {
          return null;
        }
        sleep(Duration.ofNanos(waitNanos));
        if (!Stamp.of(file).equals(before)) {
          continue;
        }
      }
      String content = Files.readString(file, StandardCharsets.UTF_8);
      if (Stamp.of(file).equals(before)) {
        return content;
      }
      // Written while being read: whatever it was, it is being written now.
      appeared = false;
      if (nowNanos() > deadline) {
        return null;
      }
    }
  }

  /** The settle interval, for messages. */
  Duration settle() {
    return settle;
  }

  Duration maxWait() {
    return maxWait;
  }

  private long nowNanos() {
    java.time.Instant now = clock.instant();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  private void sleep(Duration duration) throws IOException {
    try {
      sleeper.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for a file to settle");
    }
  }
}
