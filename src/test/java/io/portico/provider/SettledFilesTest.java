package io.portico.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file written in place is read only once complete. The reader's clock is fake and its waits
 * are where the test, acting as the concurrent writer, appends: no real time passes, no sleeps.
 */
class SettledFilesTest {

  private static final Duration SETTLE = Duration.ofMillis(100);
  private static final Duration MAX_WAIT = Duration.ofSeconds(1);

  @TempDir Path dir;

  /** A clock the test moves; writes stamp the file with its time. */
  private Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final List<Duration> waits = new ArrayList<>();

  private final Clock clock = new Clock() {
    @Override public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override public Instant instant() {
      return now;
    }
  };

  private void write(Path file, String content, StandardOpenOption... options) {
    try {
      Files.writeString(file, content, options);
      Files.setLastModifiedTime(file, FileTime.from(now));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads with a sleeper that advances the clock and runs the next pending write, if any. */
  private String read(Path file, List<Runnable> writesDuringWaits) throws IOException {
    return read(file, false, writesDuringWaits);
  }

  private String read(Path file, boolean appeared, List<Runnable> writesDuringWaits)
      throws IOException {
    SettledFiles settled = new SettledFiles(SETTLE, MAX_WAIT, clock, duration -> {
      waits.add(duration);
      now = now.plus(duration);
      if (!writesDuringWaits.isEmpty()) {
        writesDuringWaits.remove(0).run();
      }
    });
    return settled.read(file, appeared);
  }

  @Test
  void fileRenamedIntoPlaceIsReadAtOnce() throws IOException {
    Path file = dir.resolve("routes.yaml");
    write(file, "complete: true\n");

    assertThat(read(file, true, new ArrayList<>())).isEqualTo("complete: true\n");
    assertThat(waits).isEmpty();
  }

  @Test
  void emptyFileThatAppearedIsWaitedForAsAnyOther() throws IOException {
    Path file = dir.resolve("routes.yaml");
    write(file, "");
    List<Runnable> writes = new ArrayList<>(List.of(() -> write(file, "complete: true\n")));

    assertThat(read(file, true, writes)).isEqualTo("complete: true\n");
    assertThat(waits).isNotEmpty();
  }

  @Test
  void fileUntouchedForTheSettleIntervalIsReadWithoutWaiting() throws IOException {
    Path file = dir.resolve("routes.yaml");
    write(file, "complete: true\n");
    now = now.plus(SETTLE);

    assertThat(read(file, new ArrayList<>())).isEqualTo("complete: true\n");
    assertThat(waits).isEmpty();
  }

  @Test
  void fileStillBeingWrittenIsReadOnlyOnceTheWriterIsDone() throws IOException {
    Path file = dir.resolve("routes.yaml");
    // The first half is valid YAML on its own: read now, it would pass for the whole file.
    write(file, "rules:\n- a\n");
    List<Runnable> writer = new ArrayList<>(List.of(
        () -> write(file, "- b\n", StandardOpenOption.APPEND),
        () -> write(file, "- c\n", StandardOpenOption.APPEND)));

    assertThat(read(file, writer)).isEqualTo("rules:\n- a\n- b\n- c\n");
    assertThat(writer).isEmpty();
    // Two waits saw a write, the third saw the file hold still.
    assertThat(waits).hasSize(3);
  }

  @Test
  void sameSizeRewriteIsNoticedByItsModificationTime() throws IOException {
    Path file = dir.resolve("routes.yaml");
    write(file, "value: 1\n");
    List<Runnable> writer = new ArrayList<>(List.<Runnable>of(() -> {
      now = now.plusMillis(1);
      write(file, "value: 2\n");
    }));

    assertThat(read(file, writer)).isEqualTo("value: 2\n");
  }

  @Test
  void fileThatKeepsChangingIsNotReadAndTheCallerKeepsItsLastVersion() throws IOException {
    Path file = dir.resolve("routes.yaml");
    write(file, "rules:\n");
    List<Runnable> writer = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      writer.add(() -> write(file, "- x\n", StandardOpenOption.APPEND));
    }

    assertThat(read(file, writer)).isNull();
    assertThat(waits.stream().mapToLong(Duration::toMillis).sum())
        .isLessThanOrEqualTo(MAX_WAIT.toMillis());
  }

  @Test
  void fileDatedInTheFutureIsReadAfterHoldingStillForOneInterval() throws IOException {
    Path file = dir.resolve("routes.yaml");
    Instant written = now;
    now = now.minus(Duration.ofHours(1)); // the file's clock is ahead of ours
    try {
      Files.writeString(file, "skewed: true\n");
      Files.setLastModifiedTime(file, FileTime.from(written));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }

    assertThat(read(file, new ArrayList<>())).isEqualTo("skewed: true\n");
    assertThat(waits).containsExactly(SETTLE);
  }
}
