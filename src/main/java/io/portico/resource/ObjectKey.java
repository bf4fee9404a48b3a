package io.portico.resource;

import io.fabric8.kubernetes.api.model.HasMetadata;

import java.util.Comparator;
import java.util.Objects;

/**
 * Identifies a Kubernetes object by kind, namespace and name.
 *
 * @param kind the object's kind, e.g. {@code HTTPRoute}
 * @param namespace its namespace; empty for cluster-scoped kinds
 * @param name its name
 */
public record ObjectKey(String kind, String namespace, String name) implements Comparable<ObjectKey> {

  private static final Comparator<ObjectKey> ORDER = Comparator.comparing(ObjectKey::kind)
      .thenComparing(ObjectKey::namespace).thenComparing(ObjectKey::name);

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

  @Override
  public int compareTo(ObjectKey other) {
    return ORDER.compare(this, other);
  }

  @Override
  public String toString() {
    return namespace.isEmpty() ? kind + "/" + name : kind + "/" + namespace + "/" + name;
  }
}
