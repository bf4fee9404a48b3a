package io.portico.translate;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

import static org.assertj.core.api.Assertions.assertThat;

class SnapshotIndexTest {

  /** The fast reading of creation timestamps agrees with OffsetDateTime.parse, or declines. */
  @ParameterizedTest
  @ValueSource(strings = {"2026-12-06T12:07:12Z", "1970-01-01T00:00:00Z", "2024-02-29T23:59:59Z",
      "2026-02-30T00:00:00Z", "2026-12-06T24:00:00Z", "2026-13-01T00:00:00Z",
      "2026-12-06T12:07:12+01:00", "2026-12-06T12:07:12.5Z", "2026-12-06 12:07:12Z",
      "2O26-12-06T12:07:12Z", "-026-12-06T12:07:12Z"})
  void canonicalTimestampsReadAsParseReadsThem(String timestamp) {
    OffsetDateTime parsed;
    try {
      parsed = OffsetDateTime.parse(timestamp);
    } catch (DateTimeParseException e) {
      parsed = null;
    }
    OffsetDateTime fast = SnapshotIndex.canonicalUtc(timestamp);
    if (fast != null) {
      assertThat(fast).isEqualTo(parsed);
    }
    if (timestamp.length() == 20 && timestamp.endsWith("Z") && parsed != null) {
      assertThat(fast).as("the canonical form takes the fast path").isNotNull();
    }
  }
}
