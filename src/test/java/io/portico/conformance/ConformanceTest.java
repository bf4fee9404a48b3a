package io.portico.conformance;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replays the Gateway API conformance scenarios (the {@code shared/conformance} folder, or
 * {@code -Dportico.conformance.dir}) against one standalone Portico: one dynamic test per case,
 * cases needing a feature Portico does not claim skipped, and a summary plus
 * {@code target/conformance-report.yaml} at the end. {@code -Dportico.conformance.cases=A,B}
 * runs only the named cases.
 */
class ConformanceTest {

  /**
   * The features Portico claims (those GatewayClass status reports); a case runs only if it
   * needs none other.
   */
  static final Set<String> SUPPORTED_FEATURES = io.portico.translate.SupportedFeatures.ALL;

  private static final Path REPORT = Path.of("target", "conformance-report.yaml");

  private static ConformanceReport report;
  private static ConformanceSuite suite;
  private static RuntimeException suiteFailure;

  @TestFactory
  List<DynamicTest> conformance() {
    Path directory = Path.of(System.getProperty("portico.conformance.dir",
        Path.of("..", "shared", "conformance").toString())).toAbsolutePath().normalize();
    if (!Files.isDirectory(directory)) {
      System.out.println("conformance: skipped (no conformance data at " + directory + ")");
      return List.of();
    }
    ConformanceData data = ConformanceData.read(directory);
    report = new ConformanceReport(data, SUPPORTED_FEATURES);
    List<DynamicTest> tests = new ArrayList<>();
    for (ConformanceData.IndexEntry entry : data.cases()) {
      tests.add(DynamicTest.dynamicTest(entry.name(), () -> run(data, entry)));
    }
    return tests;
  }

  private static void run(ConformanceData data, ConformanceData.IndexEntry entry) {
    String selected = System.getProperty("portico.conformance.cases", "");
    if (!selected.isBlank() && !List.of(selected.split(",")).contains(entry.name())) {
      String reason = "not selected by -Dportico.conformance.cases";
      report.record(entry, ConformanceReport.Outcome.SKIPPED, reason);
      Assumptions.abort(reason);
    }
    List<String> unclaimed = entry.features().stream()
        .filter(f -> !SUPPORTED_FEATURES.contains(f)).toList();
    if (!unclaimed.isEmpty()) {
      String reason = (unclaimed.size() == 1 ? "feature " : "features ")
          + String.join(", ", unclaimed) + " not claimed";
      report.record(entry, ConformanceReport.Outcome.SKIPPED, reason);
      Assumptions.abort(reason);
    }
    CaseFile caseFile = data.caseFile(entry);
    if (caseFile.skipped(SUPPORTED_FEATURES)) {
      // Upstream returns success at once: counted as passed, as the upstream report does.
      report.record(entry, ConformanceReport.Outcome.PASSED, null);
      return;
    }
    try {
      suite(data).runner().run(caseFile);
      report.record(entry, ConformanceReport.Outcome.PASSED, null);
    } catch (AssertionError | RuntimeException e) {
      report.record(entry, ConformanceReport.Outcome.FAILED, e.getMessage());
      System.out.println("conformance: " + entry.name() + " FAILED: " + e.getMessage());
      throw e;
    }
  }

  /** Starts the suite for the first case that runs; a failed start fails every case. */
  private static ConformanceSuite suite(ConformanceData data) {
    if (suiteFailure != null) {
      throw suiteFailure;
    }
    if (suite == null) {
      try {
        suite = ConformanceSuite.start(data);
      } catch (RuntimeException e) {
        suiteFailure = e;
        throw e;
      }
    }
    return suite;
  }

  @AfterAll
  static void summarize() {
    try {
      if (report != null) {
        report.summary().forEach(System.out::println);
        report.write(REPORT, projectVersion());
      }
    } finally {
      if (suite != null) {
        suite.close();
        suite = null;
      }
    }
  }

  /** The project version from pom.xml (tests run from the project directory). */
  private static String projectVersion() {
    try {
      Matcher matcher = Pattern.compile("<artifactId>portico</artifactId>\\s*<version>([^<]+)")
          .matcher(Files.readString(Path.of("pom.xml")));
      return matcher.find() ? matcher.group(1) : "unknown";
    } catch (IOException e) {
      return "unknown";
    }
  }
}
