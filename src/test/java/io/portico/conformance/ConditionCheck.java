package io.portico.conformance;

import io.fabric8.kubernetes.api.model.Condition;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares status conditions the way the upstream suite does: by type, then status (unless
 * {@code ''}), then reason (unless omitted); extra conditions are fine.
 *
 * @param type the condition type
 * @param status {@code True}/{@code False}, or empty for any
 * @param reason the reason, or null for any
 */
record ConditionCheck(String type, String status, String reason) {

  static List<ConditionCheck> parse(Object yaml) {
    List<ConditionCheck> checks = new ArrayList<>();
    for (Object item : Yaml.list(yaml)) {
      Map<String, Object> condition = Yaml.map(item);
      checks.add(new ConditionCheck(Yaml.string(condition.get("type")),
          Objects.toString(condition.get("status"), ""), Yaml.string(condition.get("reason"))));
    }
    return checks;
  }

  boolean matches(Condition actual) {
    return type.equals(actual.getType())
        && (status.isEmpty() || status.equals(actual.getStatus()))
        && (reason == null || reason.equals(actual.getReason()));
  }

  /** Returns whether every check is met by some condition of {@code actual}. */
  static boolean allMet(List<ConditionCheck> checks, List<Condition> actual) {
    List<Condition> conditions = actual == null ? List.of() : actual;
    return checks.stream().allMatch(check -> conditions.stream().anyMatch(check::matches));
  }

  /**
   * Returns a description of the conditions whose observedGeneration is not {@code generation},
   * or null when all are current.
   */
  static String stale(List<Condition> conditions, Long generation) {
    if (conditions == null) {
      return null;
    }
    for (Condition condition : conditions) {
      if (!Objects.equals(condition.getObservedGeneration(), generation)) {
        return "condition " + condition.getType() + " has observedGeneration "
            + condition.getObservedGeneration() + ", metadata.generation is " + generation;
      }
    }
    return null;
  }

  static String describe(List<Condition> conditions) {
    if (conditions == null || conditions.isEmpty()) {
      return "[]";
    }
    List<String> parts = new ArrayList<>();
    for (Condition c : conditions) {
      parts.add(c.getType() + "=" + c.getStatus() + "/" + c.getReason()
          + "(gen " + c.getObservedGeneration() + ")");
    }
    return parts.toString();
  }

  @Override
  public String toString() {
    return type + "=" + (status.isEmpty() ? "*" : status) + (reason == null ? "" : "/" + reason);
  }
}
