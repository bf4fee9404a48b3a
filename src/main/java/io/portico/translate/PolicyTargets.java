package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Resolves the targets of BackendTrafficPolicies (and of the other gateway.envoyproxy.io
 * policies, see {@link UnimplementedPolicyPhase}) ({@code targetRef}, {@code targetRefs},
 * {@code targetSelectors}) to Gateways, listeners, ListenerSets (or one of their listeners),
 * HTTPRoutes, GRPCRoutes, TLSRoutes, TCPRoutes, UDPRoutes and named rules of the policy's
 * namespace, each with the ancestors its status is reported under; and answers which routes are
 * attached where (for the Overridden condition). No precedence here: see
 * {@link TrafficPolicyPhase}.
 */
final class PolicyTargets {

  static final String REASON_TARGET_NOT_FOUND = "TargetNotFound";
  private static final String GATEWAY_GROUP = "gateway.networking.k8s.io";
  /**
   * Route kinds served by the stream proxy: a policy applies to them only the fields that make
   * sense for a connection or a datagram session ({@link StreamPolicyScope}).
   */
  static final Set<String> STREAM_ROUTE_KINDS = Set.of("TCPRoute", "TLSRoute", "UDPRoute");

  /**
   * What a target is, declared from most to least specific (Envoy Gateway 1.9's precedence:
   * route rule, route, a ListenerSet's listener, the ListenerSet, a Gateway listener, the
   * Gateway). A listener a ListenerSet contributes is reached by ListenerSet targets and the
   * Gateway-wide one, never by a Gateway sectionName, so LISTENER and the two ListenerSet levels
   * never compete for one route.
   */
  enum Level { RULE, ROUTE, LISTENER_SET_LISTENER, LISTENER_SET, LISTENER, GATEWAY }

  /**
   * One resolved target.
   *
   * @param object the route (RULE, ROUTE), the ListenerSet (LISTENER_SET_LISTENER,
   *     LISTENER_SET) or the Gateway (LISTENER, GATEWAY)
   * @param section the rule name (RULE) or the listener name (LISTENER_SET_LISTENER,
   *     LISTENER), else null
   * @param ruleIndex the index of the named rule (RULE), else -1
   */
  record Target(Level level, ObjectKey object, String section, int ruleIndex) {

    String claimKey() {
      return claimKey(level, object, level == Level.RULE ? String.valueOf(ruleIndex) : section);
    }

    static String claimKey(Level level, ObjectKey object, String section) {
      // The kind too: an HTTPRoute and a GRPCRoute may share a namespace and name.
      return level + "|" + object.kind() + "|" + object.namespace() + "/" + object.name() + "|"
          + (section == null ? "" : section);
    }

    /**
     * Returns what one rule of {@code route} gets, attached to {@code listener} of
     * {@code gateway}: the most specific claim of rule, route, listener, Gateway; null when
     * none. For a listener a ListenerSet contributed, {@code listenerSet} names it and
     * {@code listener} is its name there: the most specific of rule, route, that listener of
     * the ListenerSet, the ListenerSet, the Gateway (a Gateway listener target never reaches
     * it).
     */
    static <T> T mostSpecific(Map<String, T> claims, ObjectKey gateway, ObjectKey listenerSet,
        String listener, ObjectKey route, int ruleIndex) {
      T claim = claims.get(claimKey(Level.RULE, route, String.valueOf(ruleIndex)));
      if (claim == null) {
        claim = claims.get(claimKey(Level.ROUTE, route, null));
      }
      if (claim == null && listenerSet != null) {
        claim = claims.get(claimKey(Level.LISTENER_SET_LISTENER, listenerSet, listener));
        if (claim == null) {
          claim = claims.get(claimKey(Level.LISTENER_SET, listenerSet, null));
        }
      } else if (claim == null) {
        claim = claims.get(claimKey(Level.LISTENER, gateway, listener));
      }
      if (claim == null) {
        claim = claims.get(claimKey(Level.GATEWAY, gateway, null));
      }
      return claim;
    }

    /** Envoy Gateway's wording of the target in a Conflicted message. */
    String describe() {
      return switch (level) {
        case RULE -> "RouteRule " + object.name() + "/" + section;
        case ROUTE -> object.kind() + " " + object.name();
        case LISTENER_SET_LISTENER -> "Listener " + section + " of ListenerSet "
            + object.namespace() + "/" + object.name();
        case LISTENER_SET -> "ListenerSet " + object.namespace() + "/" + object.name();
        case LISTENER -> "Listener " + object.namespace() + "/" + object.name() + "/" + section;
        case GATEWAY -> "Gateway " + object.name();
      };
    }
  }

  /** An ancestor in a policy's status: a Gateway (maybe one listener) or the target itself. */
  record Ancestor(ObjectKey object, String section) {
    static final Comparator<Ancestor> ORDER = Comparator.comparing(Ancestor::object)
        .thenComparing(a -> a.section() == null ? "" : a.section());
  }

  /**
   * One target of one policy: resolved (target != null), refused (reason != null), or both for a
   * target Portico can name but not apply the policy to (a ListenerSet that is not accepted):
   * such a target must not be given the policy's settings, only fail closed where the policy
   * restricts access.
   */
  record Resolution(Target target, List<Ancestor> ancestors, String reason, String message) {
  }

  /**
   * The routes, by key; built on first use, like {@link #attachments}: with thousands of routes
   * and no policy naming a rule or a listener, neither is needed.
   */
  private Map<ObjectKey, HasMetadata> routes;
  private final List<? extends HasMetadata> routeList;
  private final List<GatewayState> gatewayStates;
  private final Map<ObjectKey, GatewayState> ours = new HashMap<>();
  private final Set<ObjectKey> allGateways = new TreeSet<>();
  private final Map<ObjectKey, List<RouteParentStatus>> routeParents;
  /** Every ListenerSet of the snapshot, by key. */
  private final Map<ObjectKey, ListenerSet> listenerSets = new HashMap<>();
  /** The status of every ListenerSet whose parent is a Portico Gateway. */
  private final Map<ObjectKey, ListenerSetStatus> listenerSetStatus;
  /**
   * Which routes are attached where, built on first use (see {@link Attachments}); null until
   * then.
   */
  private Attachments attachments;

  /**
   * Per Gateway, per listener name of its own, the routes of every kind attached there; per
   * ListenerSet a Portico Gateway admits, per listener name, likewise; by Gateway, the
   * ListenerSets it serves listeners of.
   */
  private record Attachments(Map<ObjectKey, Map<String, Set<ObjectKey>>> onGateways,
      Map<ObjectKey, Map<String, Set<ObjectKey>>> onListenerSets,
      Map<ObjectKey, Set<ObjectKey>> listenerSetsOf) {
  }

  /**
   * @param routes the routes of every kind of the snapshot
   * @param routeParents their status parents entries (those with a Portico parent), by route
   * @param allListenerSets every ListenerSet of the snapshot (to tell one whose parent is
   *     another controller's Gateway from a missing one)
   * @param listenerSetStatus the status of those whose parent is a Portico Gateway
   */
  PolicyTargets(List<? extends HasMetadata> routes,
      Map<ObjectKey, List<RouteParentStatus>> routeParents, List<GatewayState> gatewayStates,
      List<Gateway> allGateways, List<ListenerSet> allListenerSets,
      Map<ObjectKey, ListenerSetStatus> listenerSetStatus) {
    for (ListenerSet listenerSet : allListenerSets) {
      this.listenerSets.put(key("ListenerSet", listenerSet), listenerSet);
    }
    this.listenerSetStatus = listenerSetStatus;
    this.routeList = routes;
    this.gatewayStates = gatewayStates;
    for (Gateway gateway : allGateways) {
      this.allGateways.add(key("Gateway", gateway));
    }
    for (GatewayState state : gatewayStates) {
      ours.put(key("Gateway", state.gateway()), state);
    }
    this.routeParents = routeParents;
  }

  private Map<ObjectKey, HasMetadata> routes() {
    if (routes == null) {
      routes = new HashMap<>();
      for (HasMetadata route : routeList) {
        routes.put(ObjectKey.of(route), route);
      }
    }
    return routes;
  }

  private Attachments attachments() {
    if (attachments != null) {
      return attachments;
    }
    Map<ObjectKey, Map<String, Set<ObjectKey>>> attached = new HashMap<>();
    Map<ObjectKey, Map<String, Set<ObjectKey>>> onListenerSets = new HashMap<>();
    Map<ObjectKey, Set<ObjectKey>> listenerSetsOf = new HashMap<>();
    for (GatewayState state : gatewayStates) {
      ObjectKey gateway = key("Gateway", state.gateway());
      Map<String, Set<ObjectKey>> byListener = new HashMap<>();
      attached.put(gateway, byListener);
      for (ListenerState listener : state.listeners()) {
        if (listener.listenerSet != null) {
          // A Gateway listener target's sectionName names one of the Gateway's own listeners;
          // those of a ListenerSet are reached through the ListenerSet.
          ObjectKey set = key("ListenerSet", listener.listenerSet);
          listenerSetsOf.computeIfAbsent(gateway, g -> new TreeSet<>()).add(set);
          Set<ObjectKey> keys = onListenerSets.computeIfAbsent(set, s -> new TreeMap<>())
              .computeIfAbsent(listener.name(), l -> new TreeSet<>());
          listener.routes.forEach(entry -> keys.add(key(entry.source().kind(), entry.route())));
          listener.streamRoutes.forEach(route -> keys.add(new ObjectKey(route.source().kind(),
              route.source().namespace(), route.source().name())));
          continue;
        }
        Set<ObjectKey> keys = byListener.computeIfAbsent(listener.name(), l -> new TreeSet<>());
        for (RouteEntry entry : listener.routes) {
          keys.add(key(entry.source().kind(), entry.route()));
        }
        listener.streamRoutes.forEach(route -> keys.add(new ObjectKey(route.source().kind(),
            route.source().namespace(), route.source().name())));
      }
    }
    attachments = new Attachments(attached, onListenerSets, listenerSetsOf);
    return attachments;
  }

  /**
   * Returns the names of the rules of the HTTPRoute or GRPCRoute of that key (null for a rule
   * without one), in order; empty when there is no such route.
   */
  List<String> ruleNames(ObjectKey key) {
    List<String> names = new ArrayList<>();
    HasMetadata route = routes().get(key);
    if (route instanceof HTTPRoute http && http.getSpec() != null
        && http.getSpec().getRules() != null) {
      http.getSpec().getRules().forEach(rule -> names.add(rule.getName()));
    } else if (route instanceof GRPCRoute grpc && grpc.getSpec() != null
        && grpc.getSpec().getRules() != null) {
      grpc.getSpec().getRules().forEach(rule -> names.add(rule.getName()));
    } else if (route instanceof TCPRoute tcp && tcp.getSpec() != null
        && tcp.getSpec().getRules() != null) {
      tcp.getSpec().getRules().forEach(rule -> names.add(rule.getName()));
    } else if (route instanceof TLSRoute tls && tls.getSpec() != null
        && tls.getSpec().getRules() != null) {
      tls.getSpec().getRules().forEach(rule -> names.add(rule.getName()));
    } else if (route instanceof UDPRoute udp && udp.getSpec() != null
        && udp.getSpec().getRules() != null) {
      udp.getSpec().getRules().forEach(rule -> names.add(rule.getName()));
    }
    return names;
  }

  /**
   * Returns, per listener name of a Portico Gateway (its own listeners), the routes of every
   * kind attached there.
   */
  Map<String, Set<ObjectKey>> routesOn(ObjectKey gateway) {
    return attachments().onGateways().getOrDefault(gateway, Map.of());
  }

  /**
   * Returns, per listener name of a ListenerSet a Portico Gateway admits, the routes of every
   * kind attached there.
   */
  Map<String, Set<ObjectKey>> routesOnListenerSet(ObjectKey listenerSet) {
    return attachments().onListenerSets().getOrDefault(listenerSet, Map.of());
  }

  /** Returns the ListenerSets whose listeners a Portico Gateway serves. */
  Set<ObjectKey> listenerSetsOf(ObjectKey gateway) {
    return attachments().listenerSetsOf().getOrDefault(gateway, Set.of());
  }

  /** Returns the status ancestorRef of {@code ancestor}. */
  static ParentReference ancestorRef(Ancestor ancestor) {
    String kind = ancestor.object().kind();
    boolean gatewayApi = kind.equals("Gateway") || kind.equals("ListenerSet")
        || kind.endsWith("Route");
    return new ParentReferenceBuilder().withGroup(gatewayApi ? GATEWAY_GROUP : "")
        .withKind(ancestor.object().kind()).withNamespace(ancestor.object().namespace())
        .withName(ancestor.object().name()).withSectionName(ancestor.section()).build();
  }

  /** Resolves every target of {@code policy}; throws when its target fields are malformed. */
  List<Resolution> resolve(GenericKubernetesResource policy) throws InvalidPolicy {
    String namespace = policy.getMetadata().getNamespace();
    Map<String, Object> spec = PolicyFields.map(policy.getAdditionalProperties().get("spec"));
    List<Resolution> result = new ArrayList<>();
    boolean any = false;
    if (spec.get("targetRef") != null) {
      any = true;
      result.add(resolveRef(PolicyFields.map(spec.get("targetRef")), "spec.targetRef", namespace,
          policy.getKind()));
    }
    if (spec.get("targetRefs") != null) {
      List<?> refs = PolicyFields.list(spec.get("targetRefs"));
      for (int i = 0; i < refs.size(); i++) {
        any = true;
        result.add(resolveRef(PolicyFields.map(refs.get(i)), "spec.targetRefs[" + i + "]",
            namespace, policy.getKind()));
      }
    }
    if (spec.get("targetSelectors") != null) {
      List<?> selectors = PolicyFields.list(spec.get("targetSelectors"));
      for (int i = 0; i < selectors.size(); i++) {
        any = true;
        result.addAll(resolveSelector(PolicyFields.map(selectors.get(i)),
            "spec.targetSelectors[" + i + "]", namespace));
      }
    }
    if (!any) {
      throw InvalidPolicy.invalid(
          "spec.targetRef, spec.targetRefs or spec.targetSelectors is required");
    }
    // One target named twice (e.g. by a ref and a selector) counts once.
    Map<String, Resolution> unique = new LinkedHashMap<>();
    for (Resolution resolution : result) {
      String key = resolution.target() != null ? resolution.target().claimKey()
          : "refused|" + resolution.ancestors() + "|" + resolution.message();
      unique.putIfAbsent(key, resolution);
    }
    return new ArrayList<>(unique.values());
  }

  private Resolution resolveRef(Map<String, Object> ref, String field, String namespace,
      String policyKind) throws InvalidPolicy {
    String group = PolicyFields.string(ref.get("group"));
    String kind = PolicyFields.string(ref.get("kind"));
    String name = PolicyFields.string(ref.get("name"));
    String section = PolicyFields.string(ref.get("sectionName"));
    String refNamespace = PolicyFields.string(ref.get("namespace"));
    if (name == null || name.isEmpty()) {
      throw InvalidPolicy.invalid(field + ".name is required");
    }
    if (kind == null || kind.isEmpty()) {
      throw InvalidPolicy.invalid(field + ".kind is required");
    }
    if (group != null && !group.isEmpty() && !GATEWAY_GROUP.equals(group)) {
      throw InvalidPolicy.invalid(
          field + ".group: must be " + GATEWAY_GROUP + " (got " + group + ")");
    }
    if (refNamespace != null && !refNamespace.isEmpty() && !refNamespace.equals(namespace)) {
      return refused(new ObjectKey(kind, refNamespace, name), null, Conditions.REASON_INVALID,
          field + ".namespace: a " + policyKind + " targets only objects in its own namespace "
              + namespace + ", not " + refNamespace);
    }
    ObjectKey object = new ObjectKey(kind, namespace, name);
    switch (kind) {
      case "Gateway":
        return resolveGateway(object, section);
      case "HTTPRoute":
      case "GRPCRoute":
      case "TCPRoute":
      case "TLSRoute":
      case "UDPRoute":
        return resolveRoute(object, section);
      case "ListenerSet":
        return resolveListenerSet(object, section);
      default:
        return refused(object, null, Conditions.REASON_INVALID, field + ".kind: must be Gateway, "
            + "ListenerSet, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute or UDPRoute (got " + kind
            + ")");
    }
  }

  /**
   * A ListenerSet, or one of its listeners by sectionName (Envoy Gateway 1.9): the policy
   * reaches the routes attached through it, and reports under the ListenerSet (with the
   * sectionName) as Envoy Gateway does, not under the parent Gateway.
   */
  private Resolution resolveListenerSet(ObjectKey object, String listener) {
    String what = "ListenerSet " + object.namespace() + "/" + object.name();
    ListenerSet listenerSet = listenerSets.get(object);
    if (listenerSet == null) {
      return refused(object, listener, REASON_TARGET_NOT_FOUND, what + " not found");
    }
    ListenerSetStatus status = listenerSetStatus.get(object);
    if (status == null) {
      // Its parent is not a Portico Gateway: not ours to report on, unless there is no parent.
      ObjectKey gateway = ListenerSets.parentKey(listenerSet);
      if (gateway != null && allGateways.contains(gateway)) {
        return new Resolution(null, List.of(), null, null);
      }
      return refused(object, listener, REASON_TARGET_NOT_FOUND, what + " has no parent Gateway"
          + (gateway == null ? "" : " (" + gateway.namespace() + "/" + gateway.name()
              + " not found)"));
    }
    Target target = new Target(listener == null ? Level.LISTENER_SET
        : Level.LISTENER_SET_LISTENER, object, listener, -1);
    List<Ancestor> ancestors = List.of(new Ancestor(object, listener));
    if (!Conditions.isTrue(status.getConditions(), Conditions.ACCEPTED)) {
      String why = status.getConditions().stream()
          .filter(c -> Conditions.ACCEPTED.equals(c.getType()))
          .map(c -> c.getReason() + ": " + c.getMessage()).findFirst().orElse("no status");
      // Still named as a target: a SecurityPolicy fails whatever it would cover closed.
      return new Resolution(target, ancestors, REASON_TARGET_NOT_FOUND,
          what + " is not accepted (" + why + "), so there is nothing to apply this policy to");
    }
    boolean declared = listenerSet.getSpec().getListeners() != null && listenerSet.getSpec()
        .getListeners().stream().anyMatch(l -> Objects.equals(listener, l.getName()));
    if (listener != null && !declared) {
      return refused(object, listener, REASON_TARGET_NOT_FOUND,
          "No section name " + listener + " found for " + what);
    }
    return new Resolution(target, ancestors, null, null);
  }

  private Resolution resolveGateway(ObjectKey gateway, String listener) {
    GatewayState state = ours.get(gateway);
    if (state == null) {
      if (allGateways.contains(gateway)) {
        // Another controller's Gateway: not ours to report on (as Envoy Gateway does).
        return new Resolution(null, List.of(), null, null);
      }
      return refused(gateway, listener, REASON_TARGET_NOT_FOUND,
          "Gateway " + gateway.namespace() + "/" + gateway.name() + " not found");
    }
    if (listener != null && state.listener(listener) == null) {
      return refused(gateway, listener, REASON_TARGET_NOT_FOUND, "No section name " + listener
          + " found for Gateway " + gateway.namespace() + "/" + gateway.name());
    }
    return new Resolution(new Target(listener == null ? Level.GATEWAY : Level.LISTENER, gateway,
        listener, -1), List.of(new Ancestor(gateway, listener)), null, null);
  }

  private Resolution resolveRoute(ObjectKey routeKey, String ruleName) {
    String what = routeKey.kind() + " " + routeKey.namespace() + "/" + routeKey.name();
    if (!routes().containsKey(routeKey)) {
      return refused(routeKey, null, REASON_TARGET_NOT_FOUND, what + " not found");
    }
    List<Ancestor> ancestors = routeAncestors(routeKey);
    if (ruleName == null) {
      return new Resolution(new Target(Level.ROUTE, routeKey, null, -1), ancestors, null, null);
    }
    List<String> rules = ruleNames(routeKey);
    for (int i = 0; i < rules.size(); i++) {
      if (ruleName.equals(rules.get(i))) {
        return new Resolution(new Target(Level.RULE, routeKey, ruleName, i), ancestors, null, null);
      }
    }
    return new Resolution(null, ancestors, REASON_TARGET_NOT_FOUND, "No section name " + ruleName
        + " found for " + what);
  }

  /** The Portico Gateways that accepted the route (with the parentRef's sectionName). */
  private List<Ancestor> routeAncestors(ObjectKey routeKey) {
    Set<Ancestor> ancestors = new TreeSet<>(Ancestor.ORDER);
    List<RouteParentStatus> parents = routeParents.get(routeKey);
    if (parents != null) {
      for (RouteParentStatus parent : parents) {
        boolean accepted = Conditions.isTrue(parent.getConditions(), Conditions.ACCEPTED);
        ParentReference ref = parent.getParentRef();
        if (accepted && ref != null) {
          // A route attached through a ListenerSet reports under the ListenerSet.
          ancestors.add(new Ancestor(new ObjectKey(ref.getKind() == null ? "Gateway" : ref.getKind(),
              ref.getNamespace() == null ? routeKey.namespace() : ref.getNamespace(),
              ref.getName()), ref.getSectionName()));
        }
      }
    }
    // With no Gateway to report under, the route itself carries the verdict.
    return ancestors.isEmpty() ? List.of(new Ancestor(routeKey, null)) : List.copyOf(ancestors);
  }

  private List<Resolution> resolveSelector(Map<String, Object> selector, String field,
      String namespace) throws InvalidPolicy {
    String group = PolicyFields.string(selector.get("group"));
    String kind = PolicyFields.string(selector.get("kind"));
    if (group != null && !group.isEmpty() && !GATEWAY_GROUP.equals(group)) {
      throw InvalidPolicy.invalid(
          field + ".group: must be " + GATEWAY_GROUP + " (got " + group + ")");
    }
    if (kind == null || kind.isEmpty()) {
      throw InvalidPolicy.invalid(field + ".kind is required");
    }
    LabelSelector labels = labelSelector(selector, field);
    List<Resolution> result = new ArrayList<>();
    switch (kind) {
      case "Gateway":
        for (ObjectKey gateway : new TreeSet<>(ours.keySet())) {
          if (matches(ours.get(gateway).gateway(), namespace, labels)) {
            result.add(resolveGateway(gateway, null));
          }
        }
        break;
      case "ListenerSet":
        for (ObjectKey listenerSet : new TreeSet<>(listenerSets.keySet())) {
          if (matches(listenerSets.get(listenerSet), namespace, labels)) {
            result.add(resolveListenerSet(listenerSet, null));
          }
        }
        break;
      case "TCPRoute":
      case "TLSRoute":
      case "UDPRoute":
      case "HTTPRoute":
      case "GRPCRoute":
        for (ObjectKey route : new TreeSet<>(routes().keySet())) {
          if (route.kind().equals(kind) && matches(routes().get(route), namespace, labels)) {
            result.add(resolveRoute(route, null));
          }
        }
        break;
      default:
        throw InvalidPolicy.invalid(field + ".kind: must be Gateway, ListenerSet, HTTPRoute, "
            + "GRPCRoute, TCPRoute, TLSRoute or UDPRoute (got " + kind + ")");
    }
    return result;
  }

  private static LabelSelector labelSelector(Map<String, Object> selector, String field)
      throws InvalidPolicy {
    Map<String, String> matchLabels = new TreeMap<>();
    PolicyFields.map(selector.get("matchLabels")).forEach((k, v) ->
        matchLabels.put(k, PolicyFields.string(v)));
    List<LabelSelectorRequirement> expressions = new ArrayList<>();
    List<?> raw = PolicyFields.list(selector.get("matchExpressions"));
    for (int i = 0; i < raw.size(); i++) {
      Map<String, Object> expression = PolicyFields.map(raw.get(i));
      String key = PolicyFields.string(expression.get("key"));
      String operator = PolicyFields.string(expression.get("operator"));
      if (key == null || key.isEmpty()) {
        throw InvalidPolicy.invalid(field + ".matchExpressions[" + i + "].key is required");
      }
      if (!Set.of("In", "NotIn", "Exists", "DoesNotExist").contains(String.valueOf(operator))) {
        throw InvalidPolicy.invalid(field + ".matchExpressions[" + i + "].operator: must be In, "
            + "NotIn, Exists or DoesNotExist (got " + operator + ")");
      }
      List<String> values = new ArrayList<>();
      for (Object value : PolicyFields.list(expression.get("values"))) {
        values.add(PolicyFields.string(value));
      }
      expressions.add(new LabelSelectorRequirement(key, operator, values));
    }
    return new LabelSelector(expressions, matchLabels);
  }

  private static boolean matches(HasMetadata object, String namespace, LabelSelector selector) {
    Map<String, String> labels = object.getMetadata().getLabels() == null
        ? Map.of() : object.getMetadata().getLabels();
    return Objects.equals(namespace, object.getMetadata().getNamespace())
        && LabelSelectors.matches(selector, labels);
  }

  private static Resolution refused(ObjectKey object, String section, String reason,
      String message) {
    return new Resolution(null, List.of(new Ancestor(object, section)), reason, message);
  }

  private static ObjectKey key(String kind, HasMetadata object) {
    return new ObjectKey(kind, object.getMetadata().getNamespace(), object.getMetadata().getName());
  }
}
