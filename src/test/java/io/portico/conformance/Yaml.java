package io.portico.conformance;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import tools.jackson.databind.MappingIterator;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes YAML as plain maps and lists, the shape the case files and the manifests are
 * edited in. Writing goes through fabric8's serialization, the one Portico reads with.
 */
final class Yaml {

  private static final YAMLMapper MAPPER = YAMLMapper.builder().build();
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private Yaml() {
  }

  /** Reads a file holding one YAML document that is a map. */
  static Map<String, Object> readMap(Path file) {
    List<Map<String, Object>> documents = readDocuments(file);
    if (documents.size() != 1) {
      throw new IllegalArgumentException(file + ": expected one YAML document, got "
          + documents.size());
    }
    return documents.get(0);
  }

  /** Reads every non-empty document of a multi-document YAML file. */
  static List<Map<String, Object>> readDocuments(Path file) {
    try {
      return parseDocuments(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> parseDocuments(String yaml) {
    List<Map<String, Object>> documents = new ArrayList<>();
    try (MappingIterator<Object> values = MAPPER.readerFor(Object.class).readValues(yaml)) {
      while (values.hasNextValue()) {
        Object value = values.nextValue();
        if (value instanceof Map<?, ?> map) {
          documents.add((Map<String, Object>) map);
        }
      }
    }
    return documents;
  }

  /** Writes documents as one multi-document YAML text. */
  static String write(List<Map<String, Object>> documents) {
    StringBuilder out = new StringBuilder();
    for (Map<String, Object> document : documents) {
      String yaml = SERIALIZATION.asYaml(document);
      if (!yaml.startsWith("---")) {
        out.append("---\n");
      }
      out.append(yaml);
      if (!yaml.endsWith("\n")) {
        out.append('\n');
      }
    }
    return out.toString();
  }

  /** Returns a deep copy of a YAML tree (maps and lists; scalars are shared). */
  @SuppressWarnings("unchecked")
  static <T> T deepCopy(T value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      map.forEach((k, v) -> copy.put((String) k, deepCopy(v)));
      return (T) copy;
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>();
      list.forEach(v -> copy.add(deepCopy(v)));
      return (T) copy;
    }
    return value;
  }

  // Small typed accessors for YAML trees.

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object value) {
    return value instanceof List<?> l ? (List<Object>) l : List.of();
  }

  static List<String> strings(Object value) {
    List<String> result = new ArrayList<>();
    for (Object item : list(value)) {
      result.add(String.valueOf(item));
    }
    return result;
  }

  static String string(Object value) {
    return value == null ? null : String.valueOf(value);
  }
}
