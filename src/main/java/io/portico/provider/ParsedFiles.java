package io.portico.provider;

import io.portico.resource.YamlResourceReader;
import io.portico.resource.YamlResourceReader.ReadResult;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Remembers what each file was read as, so that a reload reads only the files whose size,
 * modification time or identity (inode: a file renamed into place is a new one) changed, and
 * parses only those whose content changed. An unchanged file gives back the same
 * {@link ReadResult}, with the same object instances, which lets the metadata stamper and the
 * snapshot comparisons downstream settle unchanged objects by identity. At 5k routes, one per
 * file, reading and parsing everything again was most of what a reload cost once translation
 * was fast (bench/scale.py). Not thread-safe: used under the provider's lock (but for the
 * reads of one scan on several threads, see {@link #beginScan}).
 */
final class ParsedFiles {

  /**
   * @param stamp the file's attributes when it was listed before that read, or null if unknown
   *     (then it is read again at every scan)
   * @param digest the SHA-256 of the content read: what says a file read again is unchanged,
   *     in 32 bytes rather than the whole text (10k files of ~700 bytes each at 10k routes)
   */
  private record Parsed(Stamp stamp, byte[] digest, ReadResult result) {}

  /**
   * What says a file is unchanged without reading it. The modification time is coarse (the
   * kernel's clock tick), but SettledFiles reads a file only once its time is the settle
   * interval old, so a later write, in place or not, always moves it.
   */
  private record Stamp(long size, long modifiedNanos, Object fileKey) {
    static Stamp of(BasicFileAttributes attributes) {
      return attributes == null || attributes.fileKey() == null ? null
          : new Stamp(attributes.size(),
              attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS), attributes.fileKey());
    }
  }

  private final YamlResourceReader reader;
  private Map<Path, Parsed> parsed = new HashMap<>();
  private Map<Path, Parsed> next = new HashMap<>();

  ParsedFiles(YamlResourceReader reader) {
    this.reader = reader;
  }

  /**
   * Starts one scan (forgetting what a scan that failed half-way had read). A scan may read
   * files on several threads (see DirectoryScan): they only read what the last scan remembered
   * and add to what this one does, a concurrent map.
   */
  void beginScan() {
    next = new java.util.concurrent.ConcurrentHashMap<>();
  }

  /**
   * Starts an update of some files only: every file remembered stays remembered unless
   * {@link #forget} is called or it is read again. The update changes the remembered files in
   * place: a copy of all 10k of them per changed file was a fifth of a reload's cost.
   */
  void beginUpdate() {
    next = parsed;
  }

  /** Forgets a file that is gone (during an update). */
  void forget(Path file) {
    next.remove(file);
  }

  /**
   * Returns what {@code file} was last read as if its attributes (as listed now) are those it
   * had then, or null when it must be read.
   */
  ReadResult unchanged(Path file, BasicFileAttributes attributes) {
    Parsed previous = parsed.get(file);
    Stamp stamp = Stamp.of(attributes);
    if (previous == null || stamp == null || !stamp.equals(previous.stamp())) {
      return null;
    }
    next.put(file, previous);
    return previous.result();
  }

  /**
   * Returns what {@code content}, read from {@code file}, holds: parsed only if it changed.
   *
   * @param attributes the file's attributes when it was listed, before this read
   */
  ReadResult read(Path file, BasicFileAttributes attributes, String content) {
    Parsed previous = parsed.get(file);
    Stamp stamp = Stamp.of(attributes);
    byte[] digest = digest(content);
    Parsed current = previous != null && MessageDigest.isEqual(previous.digest(), digest)
        ? new Parsed(stamp, digest, previous.result())
        : new Parsed(stamp, digest, reader.read(file.toString(), content));
    next.put(file, current);
    return current.result();
  }

  /**
   * Ends one scan: forgets the files it did not read (deleted, or unreadable this time), so
   * that memory follows the directory.
   */
  void endScan() {
    parsed = next;
    next = new HashMap<>();
  }

  /**
   * One SHA-256 instance per reading thread: looking the algorithm up among the security
   * providers for each file cost more than hashing it (a start at 10k routes, async-profiler).
   */
  private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  });

  private static byte[] digest(String content) {
    // digest() resets the instance for the next file.
    return SHA_256.get().digest(content.getBytes(StandardCharsets.UTF_8));
  }

  /** The files remembered, for tests. */
  Set<Path> files() {
    return Set.copyOf(parsed.keySet());
  }
}
