package io.portico.conformance;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The conformance scenarios folder: {@code index.yaml} (which cases exist, their features and
 * profiles), the case files, the manifests and {@code infrastructure.yaml}.
 */
final class ConformanceData {

  /** The base manifest every case lists first; it is loaded once per suite. */
  static final String BASE_MANIFEST = "manifests.yaml";

  /**
   * One row of {@code index.yaml}.
   *
   * @param name the case name
   * @param file the case file, relative to the folder
   * @param features the features it requires
   * @param provisional whether upstream marks it provisional
   * @param profiles profile name to {@code core} or {@code extended}
   */
  record IndexEntry(String name, String file, List<String> features, boolean provisional,
      Map<String, String> profiles) {}

  private final Path directory;
  private final List<IndexEntry> cases;
  private final String upstreamCommit;

  private ConformanceData(Path directory, List<IndexEntry> cases, String upstreamCommit) {
    this.directory = directory;
    this.cases = cases;
    this.upstreamCommit = upstreamCommit;
  }

  static ConformanceData read(Path directory) {
    Map<String, Object> index = Yaml.readMap(directory.resolve("index.yaml"));
    List<IndexEntry> cases = new ArrayList<>();
    for (Object item : Yaml.list(index.get("cases"))) {
      Map<String, Object> entry = Yaml.map(item);
      Map<String, String> profiles = new LinkedHashMap<>();
      Yaml.map(entry.get("profiles")).forEach((k, v) -> profiles.put(k, String.valueOf(v)));
      cases.add(new IndexEntry(Yaml.string(entry.get("name")), Yaml.string(entry.get("file")),
          Yaml.strings(entry.get("features")), Boolean.TRUE.equals(entry.get("provisional")),
          profiles));
    }
    String commit = Yaml.string(Yaml.map(index.get("upstream")).get("commit"));
    return new ConformanceData(directory, List.copyOf(cases), commit);
  }

  List<IndexEntry> cases() {
    return cases;
  }

  CaseFile caseFile(IndexEntry entry) {
    return CaseFile.read(directory.resolve(entry.file()));
  }

  Path manifest(String name) {
    return directory.resolve("manifests").resolve(name);
  }

  Path infrastructure() {
    return directory.resolve("infrastructure.yaml");
  }

  /** The gateway-api commit the scenarios were taken from. */
  String upstreamCommit() {
    return upstreamCommit;
  }
}
