package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrant;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrantFrom;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrantTo;

import java.util.Objects;

/**
 * Decides whether a cross-namespace reference is permitted by a ReferenceGrant in the target's
 * namespace (Gateway API GEP-709).
 */
final class ReferenceGrants {

  static final String GATEWAY_GROUP = "gateway.networking.k8s.io";

  private ReferenceGrants() {
  }

  /**
   * Returns whether an object of {@code fromGroup/fromKind} in {@code fromNamespace} may refer to
   * {@code toGroup/toKind} named {@code toName} in {@code toNamespace}. References inside one
   * namespace need no grant.
   */
  static boolean permits(SnapshotIndex index, String fromGroup, String fromKind,
      String fromNamespace, String toGroup, String toKind, String toNamespace, String toName) {
    if (fromNamespace.equals(toNamespace)) {
      return true;
    }
    for (ReferenceGrant grant : index.referenceGrants(toNamespace)) {
      if (grant.getSpec() == null || grant.getSpec().getFrom() == null
          || grant.getSpec().getTo() == null) {
        continue;
      }
      boolean fromMatches = false;
      for (ReferenceGrantFrom from : grant.getSpec().getFrom()) {
        if (groupEquals(from.getGroup(), fromGroup) && Objects.equals(from.getKind(), fromKind)
            && Objects.equals(from.getNamespace(), fromNamespace)) {
          fromMatches = true;
          break;
        }
      }
      if (!fromMatches) {
        continue;
      }
      for (ReferenceGrantTo to : grant.getSpec().getTo()) {
        if (groupEquals(to.getGroup(), toGroup) && Objects.equals(to.getKind(), toKind)
            && (to.getName() == null || to.getName().isEmpty() || to.getName().equals(toName))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The core group may be written as "" or left out. */
  private static boolean groupEquals(String a, String b) {
    return (a == null ? "" : a).equals(b == null ? "" : b);
  }
}
