package io.portico.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line answers mistakes with exit code 2 and a message naming the fix. */
class MainTest {

  @Test
  void unknownCommandAndOptionExitWithUsageError() {
    assertThat(runCapturingErr("fly")).startsWith("2:").contains("unknown command 'fly'");
    assertThat(runCapturingErr("run", "--config", "x", "--colour", "red"))
        .startsWith("2:").contains("unknown option --colour");
    assertThat(runCapturingErr("run")).startsWith("2:").contains("--config DIR is required");
    assertThat(runCapturingErr("run", "--config", "x", "--port-offset", "-3"))
        .startsWith("2:").contains("--port-offset -3");
  }

  @Test
  void missingConfigDirectoryIsNamed(@TempDir Path temp) {
    Path missing = temp.resolve("nope");
    assertThat(runCapturingErr("run", "--config", missing.toString()))
        .startsWith("2:").contains(missing.toAbsolutePath().toString()).contains("does not exist");
  }

  @Test
  void translateReportsProblemsWithFileAndLineAndExitsOne(@TempDir Path temp) throws Exception {
    Files.writeString(temp.resolve("bad.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: [x}\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true));
    int code;
    try {
      code = Main.run(new String[] {"translate", "--config", temp.toString()});
    } finally {
      System.setOut(original);
    }
    assertThat(code).isEqualTo(1);
    assertThat(out.toString()).contains("bad.yaml:");
  }

  @Test
  void kubernetesModeNamesAnUnreachableApiServerAndExitsOne(@TempDir Path temp) {
    int closed = io.portico.testing.TestGateway.freePort();
    // fabric8 reads its configuration from system properties first.
    System.setProperty("kubernetes.master", "http://127.0.0.1:" + closed);
    System.setProperty("kubeconfig", temp.resolve("no-kubeconfig").toString());
    System.setProperty("kubernetes.auth.tryServiceAccount", "false");
    try {
      assertThat(runCapturingErr("run", "--kubernetes", "--admin", "off", "--event-loops", "1"))
          .startsWith("1:")
          .contains("cannot read from the Kubernetes API server at http://127.0.0.1:"
              + closed);
    } finally {
      System.clearProperty("kubernetes.master");
      System.clearProperty("kubeconfig");
      System.clearProperty("kubernetes.auth.tryServiceAccount");
    }
    assertThat(runCapturingErr("run", "--kubernetes", "--config", "x"))
        .startsWith("2:").contains("--kubernetes and --config are exclusive");
  }

  @Test
  void helpExitsZero() {
    assertThat(runCapturingErr("run", "--help")).startsWith("0:");
    assertThat(runCapturingErr("--help")).startsWith("0:");
  }

  private static String runCapturingErr(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream originalErr = System.err;
    PrintStream originalOut = System.out;
    System.setErr(new PrintStream(err, true));
    System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
    try {
      return Main.run(args) + ":" + err;
    } finally {
      System.setErr(originalErr);
      System.setOut(originalOut);
    }
  }
}
