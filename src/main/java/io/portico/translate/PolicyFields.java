package io.portico.translate;

import io.portico.resource.GoDuration;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reads fields of a policy's untyped spec (policies arrive as GenericKubernetesResource: the
 * Envoy Gateway model is not on the classpath), failing with the field's path in the message.
 */
final class PolicyFields {

  private PolicyFields() {
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  static List<?> list(Object value) {
    return value instanceof List<?> l ? l : List.of();
  }

  static String string(Object value) {
    return value == null ? null : value.toString();
  }

  /** Returns the duration at {@code field} (Go syntax, e.g. "5s", "1m30s"), or null when unset. */
  static Duration duration(Map<String, Object> parent, String key, String field)
      throws InvalidPolicy {
    String text = string(parent.get(key));
    if (text == null) {
      return null;
    }
    Duration duration;
    try {
      duration = GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw InvalidPolicy.invalid(field + ": " + text + " is not a duration");
    }
    if (duration.isNegative()) {
      throw InvalidPolicy.invalid(field + ": " + text + " is negative");
    }
    return duration;
  }

  /** Returns the integer at {@code field} within [min, max], or {@code fallback} when unset. */
  static int integer(Map<String, Object> parent, String key, String field, int min, int max,
      int fallback) throws InvalidPolicy {
    Object value = parent.get(key);
    if (value == null) {
      return fallback;
    }
    long number;
    if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      number = n.longValue();
    } else {
      throw InvalidPolicy.invalid(field + ": " + value + " is not an integer");
    }
    if (number < min || number > max) {
      throw InvalidPolicy.invalid(field + ": " + number + " is out of range [" + min + ", "
          + max + "]");
    }
    return (int) number;
  }
}
