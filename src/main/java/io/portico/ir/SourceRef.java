package io.portico.ir;

import java.util.Objects;

/**
 * Names the Kubernetes object (and optionally the part of it) a routing-table entry came from,
 * so that logs, metrics and the admin API can point the user at the YAML to change.
 *
 * @param kind the object's kind, e.g. {@code HTTPRoute}
 * @param namespace the object's namespace; empty for cluster-scoped kinds
 * @param name the object's name
 * @param section the part inside the object, e.g. a listener name or {@code rule/0}; empty when
 *     the whole object is meant
 */
public record SourceRef(String kind, String namespace, String name, String section) {

  public SourceRef {
    Objects.requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    Objects.requireNonNull(name, "name");
    section = section == null ? "" : section;
  }

  /** Returns a reference to the same object narrowed to {@code section}. */
  public SourceRef withSection(String section) {
    return new SourceRef(kind, namespace, name, section);
  }

  @Override
  public String toString() {
    String object = namespace.isEmpty() ? kind + "/" + name : kind + "/" + namespace + "/" + name;
    return section.isEmpty() ? object : object + " " + section;
  }
}
