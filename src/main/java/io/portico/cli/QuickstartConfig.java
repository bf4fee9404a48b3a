package io.portico.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Finds the quickstart configuration: an explicit directory, else {@code examples/quickstart}
 * in the working directory (so edits there are served live), else the copy bundled in the jar,
 * extracted to a temporary directory.
 */
final class QuickstartConfig {

  static final List<String> FILES = List.of("gateway.yaml", "routes.yaml", "backends.yaml");

  private QuickstartConfig() {
  }

  static Path directory(String override) {
    if (override != null) {
      return Path.of(override);
    }
    Path local = Path.of("examples", "quickstart");
    if (Files.isDirectory(local)) {
      return local;
    }
    try {
      Path temp = Files.createTempDirectory("portico-quickstart");
      for (String file : FILES) {
        try (InputStream in = QuickstartConfig.class.getResourceAsStream("/examples/quickstart/" + file)) {
          if (in == null) {
            throw new IllegalStateException("the jar has no bundled examples/quickstart/" + file);
          }
          Files.copy(in, temp.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return temp;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the bundled quickstart", e);
    }
  }
}
