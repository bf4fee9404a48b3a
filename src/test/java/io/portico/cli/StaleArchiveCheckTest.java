package io.portico.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaleArchiveCheckTest {

  @TempDir
  Path dir;

  private Path file(String name, Instant modified) throws Exception {
    Path path = Files.writeString(dir.resolve(name), name);
    Files.setLastModifiedTime(path, FileTime.from(modified));
    return path;
  }

  @Test
  void anArchiveOlderThanItsJarIsNamedWithTheCommandThatMakesBoth() throws Exception {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    Path archive = file("portico.jsa", now.minusSeconds(60));
    Path jar = file("portico.jar", now);

    String problem = StaleArchiveCheck.problem(
        List.of("-Xms32m", "-XX:SharedArchiveFile=" + archive), jar);

    assertThat(problem).contains(archive.toString(), jar.toString(), "older than",
        "mvn -q -DskipTests package");
  }

  @Test
  void anArchiveMadeAfterItsJarIsFine() throws Exception {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    Path jar = file("portico.jar", now);
    Path archive = file("portico.jsa", now.plusSeconds(3));

    assertThat(StaleArchiveCheck.problem(List.of("-XX:SharedArchiveFile=" + archive), jar))
        .isNull();
  }

  @Test
  void noArchiveOrAMissingOneIsNotThisChecksBusiness() throws Exception {
    Path jar = file("portico.jar", Instant.now());

    assertThat(StaleArchiveCheck.problem(List.of("-Xmx256m"), jar)).isNull();
    assertThat(StaleArchiveCheck.problem(
        List.of("-XX:SharedArchiveFile=" + dir.resolve("missing.jsa")), jar)).isNull();
  }

  @Test
  void theLastArchiveGivenIsTheOneChecked() throws Exception {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    Path old = file("old.jsa", now.minusSeconds(60));
    Path fresh = file("fresh.jsa", now.plusSeconds(60));
    Path jar = file("portico.jar", now);

    assertThat(StaleArchiveCheck.problem(List.of("-XX:SharedArchiveFile=" + fresh,
        "-XX:SharedArchiveFile=" + old), jar)).contains("old.jsa");
    assertThat(StaleArchiveCheck.problem(List.of("-XX:SharedArchiveFile=" + old,
        "-XX:SharedArchiveFile=" + fresh), jar)).isNull();
  }
}
