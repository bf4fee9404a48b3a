package io.portico.conformance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Collects the outcome of every case and renders it: one summary line per profile and per
 * feature, and a ConformanceReport YAML shaped like the upstream suite's.
 */
final class ConformanceReport {

  /** The outcome of one case. */
  enum Outcome { PASSED, FAILED, SKIPPED }

  private record Result(ConformanceData.IndexEntry entry, Outcome outcome, String reason) {}

  static final List<String> PROFILES =
      List.of("GATEWAY-HTTP", "GATEWAY-TLS", "GATEWAY-GRPC", "GATEWAY-TCP", "GATEWAY-UDP");

  /** Each profile's core features (upstream conformance/utils/suite/profiles.go). */
  private static final Map<String, Set<String>> CORE = Map.of(
      "GATEWAY-HTTP", Set.of("Gateway", "ReferenceGrant", "HTTPRoute"),
      "GATEWAY-TLS", Set.of("Gateway", "ReferenceGrant", "TLSRoute"),
      "GATEWAY-GRPC", Set.of("Gateway", "ReferenceGrant", "GRPCRoute"),
      "GATEWAY-TCP", Set.of("Gateway", "ReferenceGrant", "TCPRoute"),
      "GATEWAY-UDP", Set.of("Gateway", "ReferenceGrant", "UDPRoute"));

  private final ConformanceData data;
  private final Set<String> supportedFeatures;
  private final Map<String, Result> results = new LinkedHashMap<>();

  ConformanceReport(ConformanceData data, Set<String> supportedFeatures) {
    this.data = data;
    this.supportedFeatures = supportedFeatures;
  }

  synchronized void record(ConformanceData.IndexEntry entry, Outcome outcome, String reason) {
    results.put(entry.name(), new Result(entry, outcome, reason));
  }

  /** Returns the summary lines: one per profile, then one per feature. */
  synchronized List<String> summary() {
    List<String> lines = new ArrayList<>();
    for (String profile : PROFILES) {
      lines.add("conformance " + profile + ": " + counts(results.values().stream()
          .filter(r -> r.entry().profiles().containsKey(profile)).toList()));
    }
    Set<String> features = new TreeSet<>();
    results.values().forEach(r -> features.addAll(r.entry().features()));
    for (String feature : features) {
      lines.add("conformance feature " + feature + ": " + counts(results.values().stream()
          .filter(r -> r.entry().features().contains(feature)).toList()));
    }
    // What GatewayClass status.supportedFeatures reports must be backed by passing cases: say
    // which claimed features these cases did not exercise at all.
    List<String> unexercised = new TreeSet<>(supportedFeatures).stream()
        .filter(f -> results.values().stream().noneMatch(r -> r.outcome() == Outcome.PASSED
            && r.entry().features().contains(f)))
        .toList();
    lines.add("conformance claimed features without a passing case here: "
        + (unexercised.isEmpty() ? "none" : String.join(", ", unexercised)));
    return lines;
  }

  private static String counts(List<Result> results) {
    long passed = results.stream().filter(r -> r.outcome() == Outcome.PASSED).count();
    long failed = results.stream().filter(r -> r.outcome() == Outcome.FAILED).count();
    long skipped = results.stream().filter(r -> r.outcome() == Outcome.SKIPPED).count();
    return passed + " passed, " + failed + " failed, " + skipped + " skipped";
  }

  /** Writes the upstream-shaped ConformanceReport; skip reasons are listed per section. */
  synchronized void write(Path file, String version) {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("apiVersion", "gateway.networking.k8s.io/v1");
    report.put("kind", "ConformanceReport");
    report.put("date", OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS).toString());
    Map<String, Object> implementation = new LinkedHashMap<>();
    implementation.put("organization", "portico");
    implementation.put("project", "portico");
    implementation.put("version", version);
    implementation.put("contact", List.of());
    report.put("implementation", implementation);
    report.put("gatewayAPIVersion", data.upstreamCommit());
    report.put("mode", "default");
    List<Object> profiles = new ArrayList<>();
    for (String profile : PROFILES) {
      Map<String, Object> section = new LinkedHashMap<>();
      section.put("name", profile);
      section.put("core", section(profile, "core"));
      Map<String, Object> extended = section(profile, "extended");
      Set<String> extendedFeatures = extendedFeatures(profile);
      extended.put("supportedFeatures", extendedFeatures.stream()
          .filter(supportedFeatures::contains).toList());
      extended.put("unsupportedFeatures", extendedFeatures.stream()
          .filter(f -> !supportedFeatures.contains(f)).toList());
      section.put("extended", extended);
      profiles.add(section);
    }
    report.put("profiles", profiles);
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, Yaml.write(List.of(report)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Map<String, Object> section(String profile, String level) {
    List<Result> members = results.values().stream()
        .filter(r -> level.equals(r.entry().profiles().get(profile))).toList();
    long passed = members.stream().filter(r -> r.outcome() == Outcome.PASSED).count();
    List<String> failed = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    Map<String, String> skipReasons = new TreeMap<>();
    for (Result r : members) {
      if (r.outcome() == Outcome.FAILED) {
        failed.add(r.entry().name());
      } else if (r.outcome() == Outcome.SKIPPED) {
        skipped.add(r.entry().name());
        skipReasons.put(r.entry().name(), r.reason());
      }
    }
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("result", !failed.isEmpty() ? "failure" : !skipped.isEmpty() || passed == 0
        ? "partial" : "success");
    Map<String, Object> statistics = new LinkedHashMap<>();
    statistics.put("Passed", passed);
    statistics.put("Failed", failed.size());
    statistics.put("Skipped", skipped.size());
    section.put("statistics", statistics);
    section.put("skippedTests", skipped);
    section.put("skipReasons", skipReasons);
    section.put("failedTests", failed);
    return section;
  }

  /** The profile's extended features that its cases use (those outside its core set). */
  private Set<String> extendedFeatures(String profile) {
    Set<String> features = new TreeSet<>();
    for (ConformanceData.IndexEntry entry : data.cases()) {
      if (entry.profiles().containsKey(profile)) {
        entry.features().stream().filter(f -> !CORE.get(profile).contains(f))
            .forEach(features::add);
      }
    }
    return features;
  }
}
