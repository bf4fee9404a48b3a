package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerEntryStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerEntryStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerNamespaces;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentGatewayReference;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ListenerSets (GEP-1713, gateway.networking.k8s.io/v1): which of them Portico's Gateways admit
 * under {@code spec.allowedListeners}, in listener precedence order (the ListenerPhase merges
 * their listeners into the Gateway's), and their status once routes have attached.
 *
 * <p>A ListenerSet whose parentRef names no Gateway of Portico's classes is another
 * controller's (or nobody's) and gets no status from Portico, as routes of other parents.
 */
final class ListenerSets {

  /** ListenerSet {@code Accepted}/{@code Programmed} reasons (apis/v1/listenerset_types.go). */
  static final String REASON_NOT_ALLOWED = "NotAllowed";
  static final String REASON_PARENT_NOT_ACCEPTED = "ParentNotAccepted";
  static final String REASON_PARENT_NOT_PROGRAMMED = "ParentNotProgrammed";

  /**
   * One ListenerSet whose parent is a Portico Gateway, and whether that Gateway admits it.
   *
   * @param notAllowed why the Gateway's allowedListeners refuses it; null when admitted
   */
  record Attachment(ListenerSet listenerSet, Gateway gateway, String notAllowed) {

    boolean admitted() {
      return notAllowed == null;
    }

    String describe() {
      return "ListenerSet " + listenerSet.getMetadata().getNamespace() + "/"
          + listenerSet.getMetadata().getName();
    }
  }

  private final List<Attachment> attachments;

  private ListenerSets(List<Attachment> attachments) {
    this.attachments = List.copyOf(attachments);
  }

  /**
   * Finds the parent of every ListenerSet among {@code gateways} (Portico's) and checks it
   * against the Gateway's {@code spec.allowedListeners.namespaces} (None when unset).
   */
  static ListenerSets attach(SnapshotIndex index, List<ListenerSet> listenerSets,
      List<Gateway> gateways) {
    Map<String, Gateway> byKey = new HashMap<>();
    for (Gateway gateway : gateways) {
      byKey.put(SnapshotIndex.key(gateway), gateway);
    }
    List<ListenerSet> sorted = new ArrayList<>(listenerSets);
    // Listener precedence: oldest first, then "{namespace}/{name}" (the snapshot order rule).
    SnapshotIndex.sortOldestFirst(sorted);
    List<Attachment> attachments = new ArrayList<>();
    for (ListenerSet listenerSet : sorted) {
      Gateway gateway = parent(listenerSet, byKey);
      if (gateway != null) {
        attachments.add(new Attachment(listenerSet, gateway,
            notAllowed(index, listenerSet, gateway)));
      }
    }
    return new ListenerSets(attachments);
  }

  private static Gateway parent(ListenerSet listenerSet, Map<String, Gateway> gateways) {
    ParentGatewayReference ref = listenerSet.getSpec() == null
        ? null : listenerSet.getSpec().getParentRef();
    ObjectKey key = parentKey(listenerSet);
    if (key == null) {
      return null;
    }
    String group = ref.getGroup() == null ? ReferenceGrants.GATEWAY_GROUP : ref.getGroup();
    String kind = ref.getKind() == null ? "Gateway" : ref.getKind();
    if (!group.equals(ReferenceGrants.GATEWAY_GROUP) || !kind.equals("Gateway")) {
      return null;
    }
    return gateways.get(key.namespace() + "/" + key.name());
  }

  /**
   * The Gateway {@code listenerSet}'s parentRef names (its namespace defaulting to the
   * ListenerSet's), or null when it names none.
   */
  static ObjectKey parentKey(ListenerSet listenerSet) {
    ParentGatewayReference ref = listenerSet.getSpec() == null
        ? null : listenerSet.getSpec().getParentRef();
    if (ref == null || ref.getName() == null) {
      return null;
    }
    String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? listenerSet.getMetadata().getNamespace() : ref.getNamespace();
    return new ObjectKey("Gateway", namespace, ref.getName());
  }

  /** Returns why {@code gateway} does not admit {@code listenerSet}, or null when it does. */
  private static String notAllowed(SnapshotIndex index, ListenerSet listenerSet,
      Gateway gateway) {
    ListenerNamespaces namespaces = gateway.getSpec().getAllowedListeners() == null
        ? null : gateway.getSpec().getAllowedListeners().getNamespaces();
    String from = namespaces == null || namespaces.getFrom() == null ? "None" : namespaces.getFrom();
    String namespace = listenerSet.getMetadata().getNamespace();
    String gatewayName = "Gateway " + gateway.getMetadata().getNamespace() + "/"
        + gateway.getMetadata().getName();
    switch (from) {
      case "All":
        return null;
      case "Same":
        return namespace.equals(gateway.getMetadata().getNamespace()) ? null : gatewayName
            + " takes ListenerSets only from its own namespace (spec.allowedListeners.namespaces"
            + ".from: Same), and this one is in " + namespace;
      case "Selector":
        return LabelSelectors.matches(namespaces.getSelector(), index.namespaceLabels(namespace))
            ? null : gatewayName + " takes ListenerSets only from namespaces matching its"
                + " spec.allowedListeners.namespaces.selector; namespace " + namespace
                + " does not match";
      case "None":
        return gatewayName + " does not allow ListenerSets (spec.allowedListeners.namespaces"
            + ".from is None, the default; set Same, All or Selector to allow them)";
      default:
        return gatewayName + " has spec.allowedListeners.namespaces.from " + from
            + ", which Portico does not know (expected: All, Same, Selector or None)";
    }
  }

  /** Returns, per Gateway, the ListenerSets it admits in listener precedence order. */
  Map<Gateway, List<ListenerSet>> admittedByGateway() {
    Map<Gateway, List<ListenerSet>> result = new LinkedHashMap<>();
    for (Attachment attachment : attachments) {
      if (attachment.admitted()) {
        result.computeIfAbsent(attachment.gateway(), g -> new ArrayList<>())
            .add(attachment.listenerSet());
      }
    }
    return result;
  }

  /** Returns every ListenerSet whose parent is a Portico Gateway, admitted or not. */
  List<Attachment> attachments() {
    return attachments;
  }

  /**
   * Returns the status of every ListenerSet whose parent is a Portico Gateway, and sets each
   * such Gateway's {@code status.attachedListenerSets} in {@code gatewayStatus} (the
   * ListenerSets admitted and Accepted). Runs after routes attached (attachedRoutes) and after
   * the Gateways' own status (a ListenerSet is not accepted by a Gateway that is not).
   */
  Map<ObjectKey, ListenerSetStatus> status(List<GatewayState> gatewayStates,
      Map<ObjectKey, GatewayStatus> gatewayStatus) {
    Map<Gateway, GatewayState> states = new HashMap<>();
    Map<ObjectKey, Gateway> gateways = new HashMap<>();
    for (GatewayState state : gatewayStates) {
      states.put(state.gateway(), state);
      gateways.put(ObjectKey.of(state.gateway()), state.gateway());
    }
    Map<ObjectKey, Integer> attached = new HashMap<>();
    Map<ObjectKey, ListenerSetStatus> result = new LinkedHashMap<>();
    for (Attachment attachment : attachments) {
      ObjectKey gatewayKey = ObjectKey.of(attachment.gateway());
      ListenerSetStatus status = status(attachment, states.get(attachment.gateway()),
          gatewayStatus.get(gatewayKey));
      if (Conditions.isTrue(status.getConditions(), Conditions.ACCEPTED)) {
        attached.merge(gatewayKey, 1, Integer::sum);
      }
      result.put(ObjectKey.of(attachment.listenerSet()), status);
    }
    gatewayStatus.forEach((key, status) -> {
      Gateway gateway = gateways.get(key);
      // Reported for Gateways that opted in (or have a ListenerSet attached); left out for the
      // others, where readers take its absence as 0 and every Gateway's status stays as it was.
      if (attached.containsKey(key) || gateway != null && optedIn(gateway)) {
        status.setAttachedListenerSets(attached.getOrDefault(key, 0));
      }
    });
    return result;
  }

  private static boolean optedIn(Gateway gateway) {
    var allowed = gateway.getSpec().getAllowedListeners();
    return allowed != null && allowed.getNamespaces() != null
        && allowed.getNamespaces().getFrom() != null
        && !"None".equals(allowed.getNamespaces().getFrom());
  }

  private static ListenerSetStatus status(Attachment attachment, GatewayState gateway,
      GatewayStatus gatewayStatus) {
    ListenerSet listenerSet = attachment.listenerSet();
    long generation = SnapshotIndex.generation(listenerSet);
    List<Condition> conditions = new ArrayList<>();
    if (!attachment.admitted()) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, REASON_NOT_ALLOWED,
          attachment.notAllowed(), generation));
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, REASON_NOT_ALLOWED,
          attachment.notAllowed(), generation));
      return new ListenerSetStatusBuilder().withConditions(conditions).build();
    }
    List<ListenerEntryStatus> listeners = new ArrayList<>();
    int serving = 0;
    int total = 0;
    List<String> invalid = new ArrayList<>();
    for (ListenerState listener : gateway.listeners()) {
      if (listener.listenerSet != listenerSet) {
        continue;
      }
      total++;
      if (listener.serving()) {
        serving++;
      } else {
        invalid.add("'" + listener.name() + "'");
      }
      listeners.add(new ListenerEntryStatusBuilder()
          .withName(listener.name())
          .withSupportedKinds(listener.supportedKinds)
          .withAttachedRoutes(listener.attachedRoutes)
          .withConditions(GatewayStatusPhase.listenerConditions(listener, generation))
          .build());
    }
    String gatewayName = "Gateway " + attachment.gateway().getMetadata().getNamespace() + "/"
        + attachment.gateway().getMetadata().getName();
    List<Condition> parentConditions = gatewayStatus == null ? List.of()
        : gatewayStatus.getConditions();
    if (!Conditions.isTrue(parentConditions, Conditions.ACCEPTED)) {
      String message = "the parent " + gatewayName + " is not accepted ("
          + parentConditions.stream().filter(c -> Conditions.ACCEPTED.equals(c.getType()))
              .map(c -> c.getReason() + ": " + c.getMessage()).findFirst().orElse("no status")
          + ")";
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, REASON_PARENT_NOT_ACCEPTED,
          message, generation));
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, REASON_PARENT_NOT_PROGRAMMED,
          message, generation));
    } else if (serving == 0) {
      String message = "none of the " + total + " listeners of " + attachment.describe()
          + " is valid (" + String.join(", ", invalid) + "); see status.listeners for each";
      conditions.add(Conditions.of(Conditions.ACCEPTED, false,
          Conditions.REASON_LISTENERS_NOT_VALID, message, generation));
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false,
          Conditions.REASON_LISTENERS_NOT_VALID, message, generation));
    } else {
      if (serving == total) {
        conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
            "ListenerSet is accepted by " + gatewayName, generation));
      } else {
        conditions.add(Conditions.of(Conditions.ACCEPTED, true,
            Conditions.REASON_LISTENERS_NOT_VALID, (total - serving) + " of " + total
                + " listeners are not valid (" + String.join(", ", invalid)
                + "); see status.listeners for each", generation));
      }
      if (Conditions.isTrue(parentConditions, Conditions.PROGRAMMED)) {
        conditions.add(Conditions.of(Conditions.PROGRAMMED, true, Conditions.REASON_PROGRAMMED,
            "ListenerSet is programmed", generation));
      } else {
        conditions.add(Conditions.of(Conditions.PROGRAMMED, false, REASON_PARENT_NOT_PROGRAMMED,
            "the parent " + gatewayName + " is not programmed; see its status", generation));
      }
    }
    return new ListenerSetStatusBuilder().withConditions(conditions).withListeners(listeners)
        .build();
  }
}
