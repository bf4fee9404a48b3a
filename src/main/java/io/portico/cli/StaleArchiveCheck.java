package io.portico.cli;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says when the class-data archive given with {@code -XX:SharedArchiveFile} is older than the
 * jar it was made for. The JVM then drops the archive without a word (only {@code -Xlog:cds}
 * tells: "A jar file is not the one used while building the shared archive file") and loads
 * every class from the jar: start-up ~0.5-1 s slower, metaspace tens of MiB larger. That is what
 * a jar rebuilt with {@code -Dportico.cds.skip=true} after its archive gets; {@code mvn package}
 * rebuilds both, and images build theirs after copying the jar.
 */
final class StaleArchiveCheck {

  private static final Logger LOG = LoggerFactory.getLogger(StaleArchiveCheck.class);
  private static final String OPTION = "-XX:SharedArchiveFile=";

  private StaleArchiveCheck() {
  }

  /** Logs a warning when this JVM's archive is older than the jar Portico runs from. */
  static void warnIfStale() {
    try {
      Path jar = jar();
      String problem = jar == null ? null
          : problem(ManagementFactory.getRuntimeMXBean().getInputArguments(), jar);
      if (problem != null) {
        LOG.warn("{}", problem);
      }
    } catch (RuntimeException | java.io.IOException | URISyntaxException e) {
      LOG.debug("class-data archive not checked", e);
    }
  }

  /**
   * Returns why the archive named in {@code jvmArguments} will not be used with {@code jar}, or
   * null when it is newer than the jar, or none is named, or it does not exist (the JVM says
   * that one itself).
   */
  static String problem(List<String> jvmArguments, Path jar) throws java.io.IOException {
    String archive = null;
    for (String argument : jvmArguments) {
      if (argument.startsWith(OPTION)) {
        archive = argument.substring(OPTION.length()); // the last one given wins, as in the JVM
      }
    }
    if (archive == null || archive.isEmpty() || archive.contains(File.pathSeparator)
        || !Files.isRegularFile(Path.of(archive)) || !Files.isRegularFile(jar)) {
      return null;
    }
    Path archivePath = Path.of(archive);
    if (!Files.getLastModifiedTime(archivePath).toInstant()
        .isBefore(Files.getLastModifiedTime(jar).toInstant())) {
      return null;
    }
    return "class-data archive " + archivePath + " is older than " + jar + ": the JVM ignores it"
        + " and loads every class from the jar (start-up slower, more memory); make both again"
        + " with `mvn -q -DskipTests package`";
  }

  /** The jar Portico runs from, or null when it runs from class directories (tests, IDEs). */
  private static Path jar() throws URISyntaxException {
    var source = StaleArchiveCheck.class.getProtectionDomain().getCodeSource();
    if (source == null) {
      return null;
    }
    Path path = Path.of(source.getLocation().toURI());
    return path.toString().endsWith(".jar") ? path : null;
  }
}
