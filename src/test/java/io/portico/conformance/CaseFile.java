package io.portico.conformance;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One conformance case as written in {@code cases/<name>.yaml}: what it needs and its ordered
 * steps (format: the conformance README).
 *
 * @param name the upstream ShortName
 * @param description the upstream one-line description
 * @param features the features the case requires, all of which must be claimed
 * @param provisional whether upstream marks it provisional
 * @param profiles profile name to {@code core} or {@code extended}; empty for no profile
 * @param manifests files under {@code manifests/}, base first
 * @param steps the steps, in order
 * @param skipIf when upstream returns success at once without checking anything, e.g.
 *     {@code "TLSRouteModeMixed is supported (...)"}; null for always run
 */
record CaseFile(String name, String description, List<String> features, boolean provisional,
    Map<String, String> profiles, List<String> manifests, List<Step> steps, String skipIf) {

  private static final java.util.regex.Pattern SKIP_IF =
      java.util.regex.Pattern.compile("^(\\w+) is (not )?supported\\b.*");

  /**
   * Returns whether {@link #skipIf} holds for an implementation claiming {@code features}
   * ("Feature is supported" / "Feature is not supported"); a condition the runner cannot read
   * fails the case rather than pass it unchecked.
   */
  boolean skipped(java.util.Set<String> features) {
    if (skipIf == null) {
      return false;
    }
    java.util.regex.Matcher matcher = SKIP_IF.matcher(skipIf.strip());
    if (!matcher.matches()) {
      throw new StepFailure("skipIf not understood by the runner: " + skipIf);
    }
    boolean supported = features.contains(matcher.group(1));
    return matcher.group(2) == null ? supported : !supported;
  }

  /**
   * One step: a one-key map {@code {type: body}}.
   *
   * @param index the 1-based position in the case
   * @param type the step type, e.g. {@code expectResponse}
   * @param body the step's fields; for {@code note} steps a map holding {@code text}
   */
  record Step(int index, String type, Map<String, Object> body) {

    String describe() {
      return "step " + index + " " + type;
    }
  }

  static CaseFile read(Path file) {
    Map<String, Object> yaml = Yaml.readMap(file);
    Map<String, String> profiles = new LinkedHashMap<>();
    Yaml.map(yaml.get("profiles")).forEach((k, v) -> profiles.put(k, String.valueOf(v)));
    List<Step> steps = new ArrayList<>();
    for (Object item : Yaml.list(yaml.get("steps"))) {
      Map<String, Object> entry = Yaml.map(item);
      if (entry.size() != 1) {
        throw new IllegalArgumentException(file + ": a step must be a one-key map: " + entry);
      }
      Map.Entry<String, Object> only = entry.entrySet().iterator().next();
      Map<String, Object> body = only.getValue() instanceof Map<?, ?>
          ? Yaml.map(only.getValue()) : Map.of("text", String.valueOf(only.getValue()));
      steps.add(new Step(steps.size() + 1, only.getKey(), body));
    }
    return new CaseFile(Yaml.string(yaml.get("name")), Yaml.string(yaml.get("description")),
        Yaml.strings(yaml.get("features")), Boolean.TRUE.equals(yaml.get("provisional")),
        profiles, Yaml.strings(yaml.get("manifests")), List.copyOf(steps),
        Yaml.string(yaml.get("skipIf")));
  }
}
