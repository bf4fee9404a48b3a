package io.portico.conformance;

import io.portico.resource.ObjectKey;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The configuration directory Portico serves during the suite: the base manifests plus the
 * current case's files, edited the way {@code kubectl apply/delete/patch} would edit a cluster.
 * Every write replaces a file atomically, so Portico never reads half a file.
 */
final class ManifestStore implements AutoCloseable {

  /** The GatewayClass every Gateway of the manifests is given. */
  static final String GATEWAY_CLASS = "portico-conformance";

  /** Kinds Portico reads (ResourceSnapshot); the others are in the files but never seen. */
  static final Set<String> READ_KINDS = Set.of("GatewayClass", "Gateway", "HTTPRoute",
      "ReferenceGrant", "Service", "EndpointSlice", "Secret", "ConfigMap", "Namespace",
      "BackendTLSPolicy", "TLSRoute", "TCPRoute", "UDPRoute", "ListenerSet", "GRPCRoute");

  private static final Set<String> CLUSTER_SCOPED = Set.of("GatewayClass", "Namespace");
  private static final String USABLE_ADDRESS = "127.0.3.1";
  private static final String UNUSABLE_ADDRESS = "198.51.100.1";

  /** Replaces the README's address placeholders (${USABLE_ADDRESS} ...) in a step's value. */
  static String substituteAddresses(String value) {
    return value == null ? null : value.replace("${UNUSABLE_ADDRESS}", UNUSABLE_ADDRESS)
        .replace("${USABLE_ADDRESS_TYPE}", "IPAddress").replace("${USABLE_ADDRESS}", USABLE_ADDRESS);
  }

  private final Path directory;
  private final String controllerName;
  /** File name to its objects, in file order; what is on disk. */
  private final Map<String, List<Map<String, Object>>> files = new LinkedHashMap<>();
  private final Map<String, List<Map<String, Object>>> base = new LinkedHashMap<>();
  private int counter;

  ManifestStore(String controllerName) {
    this.controllerName = controllerName;
    try {
      this.directory = Files.createTempDirectory("portico-conformance");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path directory() {
    return directory;
  }

  /** Writes a base file: kept for the whole suite and restored after every case. */
  void writeBase(String file, List<Map<String, Object>> objects) {
    List<Map<String, Object>> prepared = prepare(objects);
    base.put(file, Yaml.deepCopy(prepared));
    write(file, prepared);
  }

  /** Writes one manifest of a case (after substitutions) as its own file. */
  void writeCaseFile(String manifest, List<Map<String, Object>> objects) {
    write(String.format("case-%03d-%s", ++counter, manifest), prepare(objects));
  }

  /** Removes every case file and restores the base files a case changed. */
  void resetToBase() {
    for (String file : new ArrayList<>(files.keySet())) {
      if (!base.containsKey(file)) {
        try {
          Files.deleteIfExists(directory.resolve(file));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        files.remove(file);
      } else if (!files.get(file).equals(base.get(file))) {
        write(file, Yaml.deepCopy(base.get(file)));
      }
    }
  }

  /** Returns a copy of the object, or null when no file holds it. */
  Map<String, Object> find(String kind, String namespace, String name) {
    ObjectKey key = key(kind, namespace, name);
    for (List<Map<String, Object>> objects : files.values()) {
      for (Map<String, Object> object : objects) {
        if (key(object).equals(key)) {
          return Yaml.deepCopy(object);
        }
      }
    }
    return null;
  }

  /** Edits an object in place in its file; false when no file holds it. */
  boolean update(String kind, String namespace, String name, Consumer<Map<String, Object>> edit) {
    ObjectKey key = key(kind, namespace, name);
    for (Map.Entry<String, List<Map<String, Object>>> file : files.entrySet()) {
      List<Map<String, Object>> objects = Yaml.deepCopy(file.getValue());
      for (Map<String, Object> object : objects) {
        if (key(object).equals(key)) {
          edit.accept(object);
          write(file.getKey(), objects);
          return true;
        }
      }
    }
    return false;
  }

  /** Deletes an object from its file; false when no file holds it. */
  boolean delete(String kind, String namespace, String name) {
    ObjectKey key = key(kind, namespace, name);
    for (Map.Entry<String, List<Map<String, Object>>> file : files.entrySet()) {
      List<Map<String, Object>> objects = Yaml.deepCopy(file.getValue());
      if (objects.removeIf(object -> key(object).equals(key))) {
        write(file.getKey(), objects);
        return true;
      }
    }
    return false;
  }

  /** Creates an object in a file of its own (removed with the case's files). */
  void create(Map<String, Object> object) {
    ObjectKey key = key(object);
    write(String.format("case-%03d-applied-%s-%s.yaml", ++counter, key.kind(), key.name())
        .toLowerCase(java.util.Locale.ROOT), prepare(List.of(object)));
  }

  /** Returns the keys of the objects on disk that Portico reads. */
  Set<ObjectKey> readableKeys() {
    Set<ObjectKey> keys = new LinkedHashSet<>();
    for (List<Map<String, Object>> objects : files.values()) {
      for (Map<String, Object> object : objects) {
        if (READ_KINDS.contains(Yaml.string(object.get("kind")))) {
          keys.add(key(object));
        }
      }
    }
    return keys;
  }

  /** Returns the key Portico gives the object: namespaced kinds default to {@code default}. */
  static ObjectKey key(Map<String, Object> object) {
    Map<String, Object> metadata = Yaml.map(object.get("metadata"));
    return key(Yaml.string(object.get("kind")), Yaml.string(metadata.get("namespace")),
        Yaml.string(metadata.get("name")));
  }

  static ObjectKey key(String kind, String namespace, String name) {
    if (CLUSTER_SCOPED.contains(kind)) {
      return new ObjectKey(kind, "", name);
    }
    return new ObjectKey(kind, namespace == null || namespace.isEmpty() ? "default" : namespace,
        name);
  }

  /** Applies the upstream applier's substitutions to copies of the objects. */
  private List<Map<String, Object>> prepare(List<Map<String, Object>> objects) {
    List<Map<String, Object>> prepared = new ArrayList<>();
    for (Map<String, Object> original : objects) {
      Map<String, Object> object = Yaml.deepCopy(original);
      Map<String, Object> spec = Yaml.map(object.get("spec"));
      String kind = Yaml.string(object.get("kind"));
      if ("Gateway".equals(kind) && "{GATEWAY_CLASS_NAME}".equals(spec.get("gatewayClassName"))) {
        spec.put("gatewayClassName", GATEWAY_CLASS);
      }
      if ("Gateway".equals(kind) && spec.get("addresses") instanceof List<?>) {
        spec.put("addresses", addresses(Yaml.list(spec.get("addresses"))));
      }
      if ("GatewayClass".equals(kind) && spec.containsKey("controllerName")) {
        spec.put("controllerName", controllerName);
      }
      prepared.add(object);
    }
    return prepared;
  }

  /** Special entries first, then the unusable and the usable pool (upstream's order). */
  private static List<Object> addresses(List<Object> written) {
    List<Object> special = new ArrayList<>();
    List<Object> unusable = new ArrayList<>();
    List<Object> usable = new ArrayList<>();
    for (Object item : written) {
      String value = Yaml.string(Yaml.map(item).get("value"));
      if ("PLACEHOLDER_UNUSABLE_ADDRS".equals(value)) {
        unusable.add(Map.of("type", "IPAddress", "value", UNUSABLE_ADDRESS));
      } else if ("PLACEHOLDER_USABLE_ADDRS".equals(value)) {
        usable.add(Map.of("type", "IPAddress", "value", USABLE_ADDRESS));
      } else {
        special.add(item);
      }
    }
    special.addAll(unusable);
    special.addAll(usable);
    return special;
  }

  private void write(String file, List<Map<String, Object>> objects) {
    Path target = directory.resolve(file);
    Path temp = directory.resolve("." + file + ".tmp");
    try {
      Files.writeString(temp, Yaml.write(objects));
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    files.put(file, objects);
  }

  @Override
  public void close() {
    try (var paths = Files.walk(directory)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
