package io.portico.provider;

import io.portico.resource.YamlResourceReader;
import io.portico.resource.YamlResourceReader.ReadResult;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Remembers what each file was read as, so that a reload parses only the files whose content
 * changed. An unchanged file gives back the same {@link ReadResult}, with the same object
 * instances, which lets the metadata stamper and the snapshot comparisons downstream settle
 * unchanged objects by identity. At 5k routes, one per file, parsing everything again was most
 * of what a reload cost once translation was fast (bench/scale.py). Not thread-safe: used under
 * the provider's lock.
 */
final class ParsedFiles {

  private record Parsed(String content, ReadResult result) {}

  private final YamlResourceReader reader;
  private Map<Path, Parsed> parsed = new HashMap<>();
  private Map<Path, Parsed> next = new HashMap<>();

  ParsedFiles(YamlResourceReader reader) {
    this.reader = reader;
  }

  /** Starts one scan (forgetting what a scan that failed half-way had read). */
  void beginScan() {
    next = new HashMap<>();
  }

  /** Returns what {@code content}, read from {@code file}, holds: parsed only if it changed. */
  ReadResult read(Path file, String content) {
    Parsed previous = parsed.get(file);
    Parsed current = previous != null && previous.content().equals(content)
        ? previous : new Parsed(content, reader.read(file.toString(), content));
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

  /** The files remembered, for tests. */
  Set<Path> files() {
    return Set.copyOf(parsed.keySet());
  }
}
