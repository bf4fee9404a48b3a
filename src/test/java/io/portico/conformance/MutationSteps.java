package io.portico.conformance;

import io.portico.resource.GoDuration;
import io.portico.resource.ObjectKey;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs the steps that change the "cluster" ({@code patch}, {@code apply}, {@code delete}) as
 * edits of the served directory, and {@code sleep}. Each edit counts as done once Portico has
 * read it, as a kubectl write is done once the API server has stored it.
 */
final class MutationSteps {

  private static final Set<String> CORE_KINDS = Set.of("ConfigMap", "Secret", "Service",
      "Namespace", "Pod");

  private final CaseContext context;
  private static final java.util.regex.Pattern CONFIG_MAP_DATA = java.util.regex.Pattern.compile(
      "\\$\\{data\\[\"([^\"]+)\"\\] of ConfigMap ([^/]+)/([^}]+)}");
  private static final java.util.regex.Pattern ORIGINAL =
      java.util.regex.Pattern.compile("\\$\\{original (\\S+)}");

  MutationSteps(CaseContext context) {
    this.context = context;
  }

  void patch(Map<String, Object> step) {
    String kind = Yaml.string(step.get("kind"));
    String namespace = Yaml.string(step.get("namespace"));
    String name = Yaml.string(step.get("name"));
    ObjectKey key = ManifestStore.key(kind, namespace, name);
    Map<String, Object> before = context.store().find(kind, namespace, name);
    if (before == null) {
      throw new StepFailure("patch: no object " + key + " in the served files");
    }
    var state = context.view().state();
    context.generationsBeforePatch().put(key, ClusterView.generation(state, key));
    String resourceVersion = ClusterView.resourceVersion(state, key);
    Map<String, Object> resolved = new LinkedHashMap<>(step);
    if (step.get("set") != null) {
      Map<String, Object> set = new LinkedHashMap<>();
      Yaml.map(step.get("set")).forEach((path, value) -> {
        List<Object> tokens = FieldPath.parse(path);
        Object last = tokens.get(tokens.size() - 1);
        Object resolvedValue = resolve(value);
        if (resolvedValue == value && last instanceof String field) {
          context.patchedOriginals().put(field, Yaml.deepCopy(valueAt(before, tokens)));
        }
        set.put(path, resolvedValue);
      });
      resolved.put("set", set);
    }
    context.store().update(kind, namespace, name, edit(resolved));
    if (ManifestStore.READ_KINDS.contains(kind)
        && !Objects.equals(before, context.store().find(kind, namespace, name))) {
      context.view().awaitSnapshot("patched " + key, s ->
          !Objects.equals(resourceVersion, ClusterView.resourceVersion(s, key)));
    }
  }

  void apply(Map<String, Object> step) {
    @SuppressWarnings("unchecked")
    Map<String, Object> object = new LinkedHashMap<>((Map<String, Object>) resolve(Yaml.deepCopy(step)));
    object.remove("note");
    String kind = Yaml.string(object.remove("kind"));
    String namespace = Yaml.string(object.remove("namespace"));
    String name = Yaml.string(object.remove("name"));
    Object apiVersion = object.remove("apiVersion");
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", name);
    if (namespace != null) {
      metadata.put("namespace", namespace);
    }
    Map<String, Object> resource = new LinkedHashMap<>();
    resource.put("apiVersion", apiVersion != null ? apiVersion
        : CORE_KINDS.contains(kind) ? "v1" : StatusSteps.GROUP + "/v1");
    resource.put("kind", kind);
    resource.put("metadata", metadata);
    resource.putAll(object);
    context.store().create(resource);
    ObjectKey key = ManifestStore.key(kind, namespace, name);
    if (ManifestStore.READ_KINDS.contains(kind)) {
      context.view().awaitSnapshot("created " + key,
          s -> ClusterView.object(s, key) != null);
    }
  }

  void delete(Map<String, Object> step) {
    String kind = Yaml.string(step.get("kind"));
    String namespace = Yaml.string(step.get("namespace"));
    String name = Yaml.string(step.get("name"));
    ObjectKey key = ManifestStore.key(kind, namespace, name);
    if (!context.store().delete(kind, namespace, name)) {
      throw new StepFailure("delete: no object " + key + " in the served files");
    }
    if (ManifestStore.READ_KINDS.contains(kind)) {
      context.view().awaitSnapshot("deleted " + key, s -> ClusterView.object(s, key) == null);
    }
  }

  void sleep(Map<String, Object> step) {
    Poll.pause(GoDuration.parse(Yaml.string(step.get("duration"))));
  }

  /**
   * Resolves the case files' references: {@code ${data["key"] of ConfigMap ns/name}} (a served
   * ConfigMap's value) and {@code ${original field}} (what an earlier patch replaced). Returns
   * {@code value} itself when it holds none.
   */
  private Object resolve(Object value) {
    if (value instanceof String text) {
      java.util.regex.Matcher data = CONFIG_MAP_DATA.matcher(text);
      if (data.matches()) {
        Map<String, Object> configMap = context.store().find("ConfigMap", data.group(2),
            data.group(3));
        if (configMap == null) {
          throw new StepFailure("no ConfigMap " + data.group(2) + "/" + data.group(3));
        }
        return Yaml.map(configMap.get("data")).get(data.group(1));
      }
      java.util.regex.Matcher original = ORIGINAL.matcher(text);
      if (original.matches()) {
        if (!context.patchedOriginals().containsKey(original.group(1))) {
          throw new StepFailure("no earlier patch replaced " + original.group(1));
        }
        return Yaml.deepCopy(context.patchedOriginals().get(original.group(1)));
      }
      return value;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      boolean changed = false;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        Object resolved = resolve(entry.getValue());
        changed |= resolved != entry.getValue();
        out.put(String.valueOf(entry.getKey()), resolved);
      }
      return changed ? out : value;
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      boolean changed = false;
      for (Object item : list) {
        Object resolved = resolve(item);
        changed |= resolved != item;
        out.add(resolved);
      }
      return changed ? out : value;
    }
    return value;
  }

  /** Returns the value at {@code tokens} in {@code root}, or null when absent. */
  private static Object valueAt(Object root, List<Object> tokens) {
    Object current = root;
    for (Object token : tokens) {
      if (token instanceof Integer index && current instanceof List<?> list && index < list.size()) {
        current = list.get(index);
      } else if (token instanceof String key && current instanceof Map<?, ?> map) {
        current = map.get(key);
      } else {
        return null;
      }
    }
    return current;
  }

  /** Returns the edit a patch step describes (README: set, appendTo, keepOnly, removeWhere). */
  private static Consumer<Map<String, Object>> edit(Map<String, Object> step) {
    return object -> {
      Yaml.map(step.get("set")).forEach((path, value) -> {
        List<Object> tokens = FieldPath.parse(path);
        FieldPath.set(object, tokens, Yaml.deepCopy(value));
      });
      Yaml.map(step.get("appendTo")).forEach((path, item) ->
          FieldPath.list(object, FieldPath.parse(path)).add(Yaml.deepCopy(item)));
      Yaml.map(step.get("keepOnly")).forEach((path, fields) ->
          FieldPath.list(object, FieldPath.parse(path)).removeIf(item -> !matches(item, fields)));
      Yaml.map(step.get("removeWhere")).forEach((path, fields) ->
          FieldPath.list(object, FieldPath.parse(path)).removeIf(item -> matches(item, fields)));
    };
  }

  private static boolean matches(Object item, Object fields) {
    Map<String, Object> map = Yaml.map(item);
    return Yaml.map(fields).entrySet().stream()
        .allMatch(e -> Objects.equals(Yaml.string(map.get(e.getKey())),
            ManifestStore.substituteAddresses(Yaml.string(e.getValue()))));
  }

  /**
   * Field paths such as {@code spec.rules[0].backendRefs[0].name}; under {@code data} and
   * {@code stringData} the rest is one key ({@code data.ca.crt} is the key {@code ca.crt}).
   */
  static final class FieldPath {

    private FieldPath() {
    }

    /** Returns the path's tokens: map keys (String) and list indexes (Integer). */
    static List<Object> parse(String path) {
      List<Object> tokens = new ArrayList<>();
      if (path.startsWith("data.") || path.startsWith("stringData.")) {
        int dot = path.indexOf('.');
        tokens.add(path.substring(0, dot));
        tokens.add(path.substring(dot + 1));
        return tokens;
      }
      for (String segment : path.split("\\.")) {
        int bracket = segment.indexOf('[');
        tokens.add(bracket < 0 ? segment : segment.substring(0, bracket));
        while (bracket >= 0) {
          int close = segment.indexOf(']', bracket);
          tokens.add(Integer.parseInt(segment.substring(bracket + 1, close)));
          bracket = segment.indexOf('[', close);
        }
      }
      return tokens;
    }

    static void set(Map<String, Object> root, List<Object> tokens, Object value) {
      Object parent = navigate(root, tokens.subList(0, tokens.size() - 1));
      Object last = tokens.get(tokens.size() - 1);
      if (last instanceof Integer index) {
        Yaml.list(parent).set(index, value);
      } else {
        Yaml.map(parent).put((String) last, value);
      }
    }

    /** Returns the list at the path, creating an empty one when it is absent. */
    static List<Object> list(Map<String, Object> root, List<Object> tokens) {
      Object parent = navigate(root, tokens.subList(0, tokens.size() - 1));
      String last = (String) tokens.get(tokens.size() - 1);
      Map<String, Object> map = Yaml.map(parent);
      Object list = map.get(last);
      if (!(list instanceof List<?>)) {
        list = new ArrayList<>();
        map.put(last, list);
      }
      return Yaml.list(list);
    }

    /** Walks to the node the tokens name, creating missing maps on the way. */
    private static Object navigate(Map<String, Object> root, List<Object> tokens) {
      Object node = root;
      for (Object token : tokens) {
        if (token instanceof Integer index) {
          node = Yaml.list(node).get(index);
        } else {
          Map<String, Object> map = Yaml.map(node);
          Object next = map.get(token);
          if (next == null) {
            next = new LinkedHashMap<String, Object>();
            map.put((String) token, next);
          }
          node = next;
        }
      }
      return node;
    }
  }
}
