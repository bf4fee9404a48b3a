package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The direct parent a route's parentRef names: one of Portico's Gateways, or a ListenerSet whose
 * parent is one (GEP-1713). A route attaches only to the listeners of its direct parent: a
 * Gateway parentRef never reaches the listeners of the Gateway's ListenerSets, even by
 * sectionName, and a ListenerSet parentRef reaches only that set's listeners.
 *
 * @param gateway the Gateway whose address serves the listeners
 * @param listenerSet the ListenerSet named by the parentRef; null for a Gateway parentRef
 */
record RouteParent(GatewayState gateway, ListenerSets.Attachment listenerSet) {

  /** Returns {@code Gateway} or {@code ListenerSet}: the kind echoed in route status. */
  String kind() {
    return listenerSet == null ? "Gateway" : "ListenerSet";
  }

  String namespace() {
    return listenerSet == null ? gateway.gateway().getMetadata().getNamespace()
        : listenerSet.listenerSet().getMetadata().getNamespace();
  }

  String describe() {
    return listenerSet == null ? "Gateway " + namespace() + "/"
        + gateway.gateway().getMetadata().getName() : listenerSet.describe();
  }

  /** Returns whether {@code listener} is one of this parent's own listeners. */
  boolean declares(ListenerState listener) {
    ListenerSet set = listenerSet == null ? null : listenerSet.listenerSet();
    return listener.listenerSet == set;
  }

  /**
   * Finds the parent a parentRef names among Portico's Gateways and the ListenerSets that name
   * them; parentRefs to anything else are another controller's.
   */
  static final class Resolver {

    private final Map<String, GatewayState> gateways = new HashMap<>();
    private final Map<String, RouteParent> listenerSets = new HashMap<>();

    Resolver(List<GatewayState> gatewayStates, ListenerSets sets) {
      Map<Gateway, GatewayState> byGateway = new HashMap<>();
      for (GatewayState state : gatewayStates) {
        gateways.put(SnapshotIndex.key(state.gateway()), state);
        byGateway.put(state.gateway(), state);
      }
      for (ListenerSets.Attachment attachment : sets.attachments()) {
        GatewayState state = byGateway.get(attachment.gateway());
        if (state != null) {
          listenerSets.put(SnapshotIndex.key(attachment.listenerSet()),
              new RouteParent(state, attachment));
        }
      }
    }

    /** Returns the parent {@code ref} of a route in {@code routeNamespace} names, or null. */
    RouteParent resolve(ParentReference ref, String routeNamespace) {
      String group = ref.getGroup() == null ? ReferenceGrants.GATEWAY_GROUP : ref.getGroup();
      String kind = ref.getKind() == null ? "Gateway" : ref.getKind();
      if (!group.equals(ReferenceGrants.GATEWAY_GROUP)) {
        return null;
      }
      String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
          ? routeNamespace : ref.getNamespace();
      String key = namespace + "/" + ref.getName();
      if (kind.equals("Gateway")) {
        GatewayState state = gateways.get(key);
        return state == null ? null : new RouteParent(state, null);
      }
      return kind.equals("ListenerSet") ? listenerSets.get(key) : null;
    }
  }
}
