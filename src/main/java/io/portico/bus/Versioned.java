package io.portico.bus;

import java.util.Objects;

/**
 * A value with the version it was published under. Versions grow by one per change, so a
 * receiver can ignore anything not newer than what it already has.
 *
 * @param version the publication number, starting at 1 (0 means "nothing published yet")
 * @param value the immutable value, handed over by reference
 * @param <T> the value type
 */
public record Versioned<T>(long version, T value) {

  public Versioned {
    Objects.requireNonNull(value, "value");
    if (version < 0) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 0)");
    }
  }

  public boolean newerThan(Versioned<?> other) {
    return other == null || version > other.version;
  }
}
