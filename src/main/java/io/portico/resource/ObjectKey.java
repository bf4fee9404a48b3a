package io.portico.resource;

import io.fabric8.kubernetes.api.model.HasMetadata;

import java.util.Objects;

/**
 * Identifies a Kubernetes object by kind, namespace and name.
 *
 * @param kind the object's kind, e.g. {@code HTTPRoute}
 * @param namespace its namespace; empty for cluster-scoped kinds
 * @param name its name
 */
public record ObjectKey(String kind, String namespace, String name) implements Comparable<ObjectKey> {

  public ObjectKey {
    Objects.requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    Objects.requireNonNull(name, "name");
  }

  /** Returns the key of {@code object}. */
  public static ObjectKey of(HasMetadata object) {
    return new ObjectKey(object.getKind(), object.getMetadata().getNamespace(),
        object.getMetadata().getName());
  }

  /**
   * Orders by kind, then namespace, then name. Written out rather than chained comparators:
   * the status report sorts every object by key at each translation, and at 10k routes the
   * chained comparator was a sixth of translation time (async-profiler).
   */
  @Override
  public int compareTo(ObjectKey other) {
    int order = compare(kind, other.kind);
    if (order == 0) {
      order = compare(namespace, other.namespace);
    }
    return order != 0 ? order : compare(name, other.name);
  }

  private static int compare(String a, String b) {
    return a == b ? 0 : a.compareTo(b);
  }

  @Override
  public String toString() {
    return namespace.isEmpty() ? kind + "/" + name : kind + "/" + namespace + "/" + name;
  }
}
