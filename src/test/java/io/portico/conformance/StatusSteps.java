package io.portico.conformance;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.controller.GatewayState;
import io.portico.resource.ObjectKey;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Runs the status steps ({@code expectAccepted}, {@code expectStatus},
 * {@code expectNamespacesReady}, {@code expectGatewayAddress}, {@code expectGenerationChanged},
 * {@code expectListenerSetStatus}, {@code expectAttachedListenerSets})
 * against the status Portico computed, polling as the upstream suite does.
 */
final class StatusSteps {

  static final String GROUP = "gateway.networking.k8s.io";

  // Upstream time limits (conformance README, "General status rules").
  private static final Duration ROUTE_LIMIT = Duration.ofSeconds(60);
  private static final Duration GATEWAY_CONDITIONS_LIMIT = Duration.ofSeconds(180);
  private static final Duration LISTENERS_LIMIT = Duration.ofSeconds(60);
  private static final Duration GENERATION_LIMIT = Duration.ofSeconds(60);
  private static final Duration ADDRESS_LIMIT = Duration.ofSeconds(180);
  private static final Duration NAMESPACES_LIMIT = Duration.ofSeconds(300);
  private static final Duration NO_PARENTS_INTERVAL = Duration.ofSeconds(1);
  private static final Duration LISTENER_SET_CONDITIONS_LIMIT = Duration.ofSeconds(180);

  private final CaseContext context;

  StatusSteps(CaseContext context) {
    this.context = context;
  }

  void expectAccepted(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    awaitGatewayAddress(gateway);
    String routeKind = Yaml.string(step.get("routeKind"));
    for (String route : Yaml.strings(step.get("routes"))) {
      String[] ref = CaseContext.ref(route);
      ParentCheck parent = new ParentCheck(GROUP, "Gateway", gateway[0], gateway[1],
          context.controllerName(), List.of(new ConditionCheck("Accepted", "True", "Accepted")));
      Poll.until(routeKind + " " + route + " accepted by Gateway " + step.get("gateway")
              + " (parentRef group/kind set, controllerName " + context.controllerName() + ")",
          ROUTE_LIMIT, Poll.INTERVAL, context.view(),
          () -> routeParents(routeKind, ref, parents -> parents.stream()
              .anyMatch(p -> parent.matches(p, ref[0], false)) ? null : "no such parent"));
    }
    if (!Boolean.FALSE.equals(step.get("checkListeners"))) {
      List<ConditionCheck> required = List.of(new ConditionCheck("ResolvedRefs", "True", null),
          new ConditionCheck("Accepted", "True", null),
          new ConditionCheck("Programmed", "True", null));
      Poll.until("every listener of Gateway " + step.get("gateway") + " has " + required,
          LISTENERS_LIMIT, Poll.INTERVAL, context.view(), () -> {
            GatewayStatus status = ClusterView.gatewayStatus(context.view().state(), gateway[0],
                gateway[1]);
            if (status == null) {
              return "no status";
            }
            for (ListenerStatus listener : nullToEmpty(status.getListeners())) {
              if (!ConditionCheck.allMet(required, listener.getConditions())) {
                return "listener " + listener.getName() + ": "
                    + ConditionCheck.describe(listener.getConditions());
              }
            }
            return null;
          });
    }
  }

  void expectGatewayAddress(Map<String, Object> step) {
    awaitGatewayAddress(CaseContext.ref(step.get("gateway")));
  }

  /** expectAccepted point 1: current observedGeneration and an address with a type. */
  private void awaitGatewayAddress(String[] gateway) {
    Poll.until("Gateway " + gateway[0] + "/" + gateway[1] + " has current observedGeneration and"
        + " an address with a type", ADDRESS_LIMIT, Poll.INTERVAL, context.view(),
        () -> currentGatewayStatus(gateway, status -> {
          boolean typed = nullToEmpty(status.getAddresses()).stream()
              .anyMatch(a -> a.getType() != null && !a.getType().isEmpty());
          return typed ? null : "addresses " + describeAddresses(status.getAddresses());
        }));
  }

  void expectStatus(Map<String, Object> step) {
    String kind = Yaml.string(step.get("kind"));
    String namespace = Objects.toString(step.get("namespace"), "");
    String name = Yaml.string(step.get("name"));
    String what = kind + " " + (namespace.isEmpty() ? "" : namespace + "/") + name;
    List<ConditionCheck> conditions = ConditionCheck.parse(step.get("conditions"));
    if (step.containsKey("parentRef")) {
      Map<String, Object> parentRef = Yaml.map(step.get("parentRef"));
      String gwNamespace = Yaml.string(parentRef.get("namespace"));
      String gwName = Yaml.string(parentRef.get("name"));
      Poll.until(what + " has a parent entry for Gateway " + gwNamespace + "/" + gwName + " with "
              + conditions, ROUTE_LIMIT, Poll.INTERVAL, context.view(),
          () -> routeParents(kind, new String[] {namespace, name}, parents -> parents.stream()
              .anyMatch(p -> refersTo(p.getParentRef(), gwNamespace, gwName)
                  && ConditionCheck.allMet(conditions, p.getConditions())) ? null : "no such entry"));
    } else if (step.containsKey("ancestorRef")) {
      Map<String, Object> ancestorRef = Yaml.map(step.get("ancestorRef"));
      String gwNamespace = Yaml.string(ancestorRef.get("namespace"));
      String gwName = Yaml.string(ancestorRef.get("name"));
      Poll.until(what + " has an ancestor entry for Gateway " + gwNamespace + "/" + gwName
              + " with " + conditions, ROUTE_LIMIT, Poll.INTERVAL, context.view(),
          () -> policyAncestors(kind, namespace, name, ancestors -> ancestors.stream()
              .anyMatch(a -> refersTo(a.getAncestorRef(), gwNamespace, gwName)
                  && ConditionCheck.allMet(conditions, a.getConditions())) ? null
              : "no such entry; ancestors " + ancestors.stream()
                  .map(a -> describeRef(a.getAncestorRef()) + " "
                      + ConditionCheck.describe(a.getConditions())).toList()));
    } else if (step.containsKey("listener")) {
      String listener = Yaml.string(step.get("listener"));
      gatewayPoll(what + " listener " + listener + " has " + conditions, LISTENERS_LIMIT,
          namespace, name, status -> {
            ListenerStatus found = listener(status, listener);
            if (found == null) {
              return "no listener " + listener + "; listeners " + describeListeners(status);
            }
            return ConditionCheck.allMet(conditions, found.getConditions()) ? null
                : ConditionCheck.describe(found.getConditions());
          });
    } else if (step.containsKey("listeners")) {
      List<Object> expected = Yaml.list(step.get("listeners"));
      gatewayPoll(what + " has exactly the listeners " + expected, LISTENERS_LIMIT, namespace,
          name, status -> listenersMismatch(expected, ListenerView.of(status)));
    } else if (step.containsKey("parents")) {
      List<ParentCheck> expected = new ArrayList<>();
      for (Object item : Yaml.list(step.get("parents"))) {
        expected.add(ParentCheck.parse(Yaml.map(item), context.controllerName()));
      }
      boolean namespaceRequired = Boolean.TRUE.equals(step.get("namespaceRequired"));
      // HTTPRouteMustHaveParents compares the parents pairwise (same count); a step listing a
      // ListenerSet parent is RoutesAndParentMustBeAccepted, which only looks for the entries
      // (conformance README: ListenerSet parents; ListenerSetRouteStatusScopedToParentRef).
      boolean exact = expected.stream().noneMatch(p -> "ListenerSet".equals(p.kind()));
      Poll.until(what + " has " + (exact ? "exactly " : "") + "the parents " + expected,
          ROUTE_LIMIT, Poll.INTERVAL, context.view(), () -> routeParents(kind,
              new String[] {namespace, name},
              parents -> parentsMismatch(expected, parents, namespace, namespaceRequired, exact)));
    } else if (Boolean.TRUE.equals(step.get("noAcceptedParents"))) {
      expectNoAcceptedParents(what, kind, namespace, name);
    } else if (Boolean.TRUE.equals(step.get("zeroAttachedRoutes"))) {
      gatewayPoll(what + " has no listener status or one listener with 0 attached routes",
          LISTENERS_LIMIT, namespace, name, status -> {
            List<ListenerStatus> listeners = nullToEmpty(status.getListeners());
            return listeners.isEmpty() || listeners.size() == 1
                && Objects.equals(listeners.get(0).getAttachedRoutes(), 0) ? null
                : "listeners " + describeListeners(status);
          });
    } else if (Boolean.TRUE.equals(step.get("latestObservedGeneration"))) {
      Poll.until(what + " conditions carry the current observedGeneration", GENERATION_LIMIT,
          Poll.INTERVAL, context.view(), () -> {
            GatewayState state = context.view().state();
            return staleConditions(state, kind, namespace, name);
          });
    } else if (step.containsKey("addresses")) {
      Map<String, Object> addresses = Yaml.map(step.get("addresses"));
      gatewayPoll(what + " has addresses " + addresses, ADDRESS_LIMIT, namespace, name,
          status -> addressesMismatch(addresses, nullToEmpty(status.getAddresses())));
    } else if (step.containsKey("conditions")) {
      expectTopLevelConditions(what, kind, namespace, name, conditions);
    } else {
      throw new StepFailure(what + ": expectStatus shape not understood by the runner: "
          + step.keySet());
    }
  }

  /**
   * Gateway top-level conditions fail at once when read with a stale observedGeneration
   * (upstream GatewayMustHaveCondition); GatewayClass conditions just wait for it.
   */
  private void expectTopLevelConditions(String what, String kind, String namespace, String name,
      List<ConditionCheck> conditions) {
    Poll.until(what + " has conditions " + conditions, GATEWAY_CONDITIONS_LIMIT, Poll.INTERVAL,
        context.view(), () -> {
          GatewayState state = context.view().state();
          List<Condition> actual = topLevelConditions(state, kind, namespace, name);
          if (actual == null) {
            return "no status";
          }
          String stale = ConditionCheck.stale(actual, ClusterView.generation(state,
              ManifestStore.key(kind, namespace, name)));
          if (stale != null) {
            if ("Gateway".equals(kind)) {
              throw new StepFailure(what + ": read with a stale observedGeneration (upstream"
                  + " fails at once): " + stale);
            }
            return stale;
          }
          return ConditionCheck.allMet(conditions, actual) ? null
              : ConditionCheck.describe(actual);
        });
  }

  private void expectNoAcceptedParents(String what, String kind, String namespace, String name) {
    int[] emptyPolls = {0};
    Poll.until(what + " has no accepted parents", ROUTE_LIMIT, NO_PARENTS_INTERVAL,
        context.view(), () -> routeParents(kind, new String[] {namespace, name}, parents -> {
          if (parents.isEmpty()) {
            return ++emptyPolls[0] >= 2 ? null : "no parents (once)";
          }
          emptyPolls[0] = 0;
          if (parents.size() == 1) {
            for (Condition condition : nullToEmpty(parents.get(0).getConditions())) {
              if ("Accepted".equals(condition.getType()) && "False".equals(condition.getStatus())) {
                return null;
              }
            }
          }
          return "parents " + describeParents(parents);
        }, true));
  }

  /**
   * {@code expectListenerSetStatus}: the ListenerSet's top-level conditions, one listener entry,
   * every listener entry, or exactly the listed entries; polled until its top-level conditions
   * carry the current observedGeneration and the expectation holds.
   */
  void expectListenerSetStatus(Map<String, Object> step) {
    String namespace = Yaml.string(step.get("namespace"));
    String name = Yaml.string(step.get("name"));
    String what = "ListenerSet " + namespace + "/" + name;
    List<ConditionCheck> conditions = ConditionCheck.parse(step.get("conditions"));
    Function<ListenerSetStatus, String> check;
    Duration limit = LISTENERS_LIMIT;
    if (step.containsKey("listener")) {
      String listener = Yaml.string(step.get("listener"));
      what += " listener " + listener + " has " + conditions;
      check = status -> {
        ListenerView found = ListenerView.of(status).stream()
            .filter(l -> listener.equals(l.name())).findFirst().orElse(null);
        if (found == null) {
          return "no listener " + listener + "; listeners "
              + ListenerView.describe(ListenerView.of(status));
        }
        return ConditionCheck.allMet(conditions, found.conditions()) ? null
            : ConditionCheck.describe(found.conditions());
      };
    } else if (Boolean.TRUE.equals(step.get("allListeners"))) {
      what += " every listener has " + conditions;
      check = status -> ListenerView.of(status).stream()
          .filter(l -> !ConditionCheck.allMet(conditions, l.conditions()))
          .map(l -> "listener " + l.name() + ": " + ConditionCheck.describe(l.conditions()))
          .findFirst().orElse(null);
    } else if (step.containsKey("listeners")) {
      List<Object> expected = Yaml.list(step.get("listeners"));
      what += " has exactly the listeners " + expected;
      check = status -> listenersMismatch(expected, ListenerView.of(status));
    } else if (step.containsKey("conditions")) {
      what += " has conditions " + conditions;
      limit = LISTENER_SET_CONDITIONS_LIMIT;
      check = status -> ConditionCheck.allMet(conditions, status.getConditions()) ? null
          : ConditionCheck.describe(status.getConditions());
    } else {
      throw new StepFailure(what + ": expectListenerSetStatus shape not understood by the"
          + " runner: " + step.keySet());
    }
    Poll.until(what, limit, Poll.INTERVAL, context.view(), () -> {
      GatewayState state = context.view().state();
      ListenerSetStatus status = ClusterView.listenerSetStatus(state, namespace, name);
      if (status == null) {
        return "no status";
      }
      // A stale read is "not yet" here, unlike a Gateway's top-level conditions.
      String stale = ConditionCheck.stale(status.getConditions(), ClusterView.generation(state,
          new ObjectKey("ListenerSet", namespace, name)));
      return stale != null ? stale : check.apply(status);
    });
  }

  /**
   * {@code expectAttachedListenerSets}: the Gateway's conditions are current and its
   * {@code status.attachedListenerSets} (absent: 0) is {@code count}.
   */
  void expectAttachedListenerSets(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    int count = ((Number) step.get("count")).intValue();
    Poll.until("Gateway " + gateway[0] + "/" + gateway[1] + " has status.attachedListenerSets "
        + count, LISTENERS_LIMIT, Poll.INTERVAL, context.view(),
        () -> currentGatewayStatus(gateway, status -> {
          int attached = status.getAttachedListenerSets() == null ? 0
              : status.getAttachedListenerSets();
          return attached == count ? null : "attachedListenerSets " + attached;
        }));
  }

  void expectNamespacesReady(Map<String, Object> step) {
    List<String> namespaces = Yaml.strings(step.get("namespaces"));
    Poll.until("every Gateway in " + namespaces + " has current observedGeneration, Accepted=True"
        + " and Programmed=True", NAMESPACES_LIMIT, Poll.INTERVAL, context.view(), () -> {
          GatewayState state = context.view().state();
          List<String> problems = new ArrayList<>();
          for (Gateway gateway : state.snapshot().gateways()) {
            String namespace = gateway.getMetadata().getNamespace();
            Map<String, String> annotations = gateway.getMetadata().getAnnotations();
            if (!namespaces.contains(namespace) || annotations != null
                && "true".equals(annotations.get("gateway-api/skip-this-for-readiness"))) {
              continue;
            }
            String name = gateway.getMetadata().getName();
            GatewayStatus status = ClusterView.gatewayStatus(state, namespace, name);
            List<Condition> conditions = status == null ? null : status.getConditions();
            String stale = ConditionCheck.stale(conditions, gateway.getMetadata().getGeneration());
            if (status == null || stale != null || !ConditionCheck.allMet(List.of(
                new ConditionCheck("Accepted", "True", null),
                new ConditionCheck("Programmed", "True", null)), conditions)) {
              problems.add(namespace + "/" + name + " " + (status == null ? "no status"
                  : stale != null ? stale : ConditionCheck.describe(conditions)));
            }
          }
          return problems.isEmpty() ? null : String.join("; ", problems);
        });
  }

  void expectGenerationChanged(Map<String, Object> step) {
    String kind = Yaml.string(step.get("kind"));
    ObjectKey key = ManifestStore.key(kind, Yaml.string(step.get("namespace")),
        Yaml.string(step.get("name")));
    Long before = context.generationsBeforePatch().get(key);
    if (before == null) {
      throw new StepFailure(key + ": no patch of this object preceded the step");
    }
    Long now = ClusterView.generation(context.view().state(), key);
    if (Objects.equals(before, now)) {
      throw new StepFailure(key + ": expected metadata.generation to differ from " + before
          + " (read before the patch), saw " + now);
    }
  }

  // ---- helpers

  /**
   * Applies {@code check} to the Gateway's status once its conditions carry the current
   * observedGeneration; otherwise returns why not yet.
   */
  private String currentGatewayStatus(String[] gateway, Function<GatewayStatus, String> check) {
    GatewayState state = context.view().state();
    GatewayStatus status = ClusterView.gatewayStatus(state, gateway[0], gateway[1]);
    if (status == null) {
      return "no status";
    }
    String stale = ConditionCheck.stale(status.getConditions(),
        ClusterView.generation(state, new ObjectKey("Gateway", gateway[0], gateway[1])));
    return stale != null ? stale : check.apply(status);
  }

  /** Polls a Gateway's status; {@code check} sees a non-null status. */
  private void gatewayPoll(String what, Duration limit, String namespace, String name,
      Function<GatewayStatus, String> check) {
    Poll.until(what, limit, Poll.INTERVAL, context.view(), () -> {
      GatewayStatus status = ClusterView.gatewayStatus(context.view().state(), namespace, name);
      return status == null ? "no status" : check.apply(status);
    });
  }

  private String routeParents(String kind, String[] route,
      Function<List<RouteParentStatus>, String> check) {
    return routeParents(kind, route, check, false);
  }

  /**
   * Applies {@code check} to a route's parents once every parent's conditions carry the route's
   * current generation; a route without status has no parents.
   */
  private String routeParents(String kind, String[] route,
      Function<List<RouteParentStatus>, String> check, boolean allowMissingRoute) {
    GatewayState state = context.view().state();
    List<RouteParentStatus> parents =
        nullToEmpty(ClusterView.routeParents(state, kind, route[0], route[1]));
    Long generation = ClusterView.generation(state, new ObjectKey(kind, route[0], route[1]));
    if (generation == null && !allowMissingRoute) {
      return "Portico has not read " + kind + " " + route[0] + "/" + route[1];
    }
    for (RouteParentStatus parent : parents) {
      String stale = ConditionCheck.stale(parent.getConditions(), generation);
      if (stale != null) {
        return "parent " + describeRef(parent.getParentRef()) + ": " + stale;
      }
    }
    String seen = check.apply(parents);
    return seen == null ? null : seen + "; parents " + describeParents(parents);
  }

  /**
   * Applies {@code check} to a policy's ancestors once every ancestor's conditions carry the
   * policy's current generation.
   */
  private String policyAncestors(String kind, String namespace, String name,
      Function<List<io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus>, String> check) {
    if (!"BackendTLSPolicy".equals(kind)) {
      throw new StepFailure("Portico reports no ancestor status for kind " + kind);
    }
    GatewayState state = context.view().state();
    Long generation = ClusterView.generation(state, new ObjectKey(kind, namespace, name));
    if (generation == null) {
      return "Portico has not read " + kind + " " + namespace + "/" + name;
    }
    var status = ClusterView.backendTlsPolicyStatus(state, namespace, name);
    var ancestors = status == null ? List.<io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus>of()
        : nullToEmpty(status.getAncestors());
    for (var ancestor : ancestors) {
      String stale = ConditionCheck.stale(ancestor.getConditions(), generation);
      if (stale != null) {
        return "ancestor " + describeRef(ancestor.getAncestorRef()) + ": " + stale;
      }
    }
    return check.apply(ancestors);
  }

  private String staleConditions(GatewayState state, String kind, String namespace, String name) {
    Long generation = ClusterView.generation(state, ManifestStore.key(kind, namespace, name));
    if (kind.endsWith("Route")) {
      return routeParents(kind, new String[] {namespace, name}, parents -> null);
    }
    if ("BackendTLSPolicy".equals(kind)) {
      return policyAncestors(kind, namespace, name, ancestors -> null);
    }
    List<Condition> conditions = topLevelConditions(state, kind, namespace, name);
    if (conditions == null) {
      return "no status";
    }
    return ConditionCheck.stale(conditions, generation);
  }

  private static List<Condition> topLevelConditions(GatewayState state, String kind,
      String namespace, String name) {
    switch (kind) {
      case "Gateway": {
        GatewayStatus status = ClusterView.gatewayStatus(state, namespace, name);
        return status == null ? null : nullToEmpty(status.getConditions());
      }
      case "GatewayClass": {
        GatewayClassStatus status = ClusterView.gatewayClassStatus(state, name);
        return status == null ? null : nullToEmpty(status.getConditions());
      }
      default:
        throw new StepFailure("Portico reports no top-level conditions for kind " + kind);
    }
  }

  /**
   * The fields a listener status check reads, of a Gateway's listener or a ListenerSet's
   * listener entry (two types with the same fields).
   */
  record ListenerView(String name, List<RouteGroupKind> supportedKinds, Integer attachedRoutes,
      List<Condition> conditions) {

    static List<ListenerView> of(GatewayStatus status) {
      return nullToEmpty(status.getListeners()).stream().map(l -> new ListenerView(l.getName(),
          l.getSupportedKinds(), l.getAttachedRoutes(), l.getConditions())).toList();
    }

    static List<ListenerView> of(ListenerSetStatus status) {
      return nullToEmpty(status.getListeners()).stream().map(l -> new ListenerView(l.getName(),
          l.getSupportedKinds(), l.getAttachedRoutes(), l.getConditions())).toList();
    }

    static String describe(List<ListenerView> listeners) {
      List<String> parts = new ArrayList<>();
      for (ListenerView l : listeners) {
        parts.add(l.name() + "{kinds " + describeKinds(nullToEmpty(l.supportedKinds()))
            + ", attachedRoutes " + l.attachedRoutes() + ", "
            + ConditionCheck.describe(l.conditions()) + "}");
      }
      return parts.toString();
    }
  }

  /** The {@code listeners} shape: exactly these entries, each as described. */
  static String listenersMismatch(List<Object> expected, List<ListenerView> actual) {
    if (actual.size() != expected.size()) {
      return "listeners " + ListenerView.describe(actual);
    }
    for (Object item : expected) {
      Map<String, Object> listener = Yaml.map(item);
      String name = Yaml.string(listener.get("name"));
      ListenerView found = actual.stream().filter(l -> name.equals(l.name())).findFirst()
          .orElse(null);
      if (found == null) {
        return "no listener " + name + "; listeners " + ListenerView.describe(actual);
      }
      List<String> kinds = Yaml.strings(listener.get("supportedKinds"));
      List<RouteGroupKind> actualKinds = nullToEmpty(found.supportedKinds());
      if (listener.containsKey("supportedKinds") && kinds.isEmpty() && !actualKinds.isEmpty()) {
        return "listener " + name + " supportedKinds " + describeKinds(actualKinds)
            + " (expected none)";
      }
      for (String kind : kinds) {
        boolean present = actualKinds.stream().anyMatch(k -> kind.equals(k.getKind())
            && (k.getGroup() == null || GROUP.equals(k.getGroup())));
        if (!present) {
          return "listener " + name + " supportedKinds " + describeKinds(actualKinds)
              + " (missing " + kind + ")";
        }
      }
      if (listener.containsKey("attachedRoutes") && !Objects.equals(found.attachedRoutes(),
          ((Number) listener.get("attachedRoutes")).intValue())) {
        return "listener " + name + " attachedRoutes " + found.attachedRoutes();
      }
      List<ConditionCheck> conditions = ConditionCheck.parse(listener.get("conditions"));
      if (!ConditionCheck.allMet(conditions, found.conditions())) {
        return "listener " + name + " conditions " + ConditionCheck.describe(found.conditions());
      }
    }
    return null;
  }

  /**
   * Upstream compares parents pairwise, so the count must match exactly, unless {@code exact}
   * is false: then every expected entry must be present.
   */
  private static String parentsMismatch(List<ParentCheck> expected, List<RouteParentStatus> actual,
      String routeNamespace, boolean namespaceRequired, boolean exact) {
    if (exact && expected.size() != actual.size()) {
      return expected.size() + " parents expected, " + actual.size() + " present";
    }
    List<RouteParentStatus> remaining = new ArrayList<>(actual);
    for (ParentCheck check : expected) {
      RouteParentStatus match = remaining.stream()
          .filter(p -> check.matches(p, routeNamespace, namespaceRequired)).findFirst()
          .orElse(null);
      if (match == null) {
        return "no parent matches " + check;
      }
      remaining.remove(match);
    }
    return null;
  }

  private static String addressesMismatch(Map<String, Object> expected,
      List<GatewayStatusAddress> actual) {
    String seen = "addresses " + describeAddresses(actual);
    if (expected.get("minCount") instanceof Number min && actual.size() < min.intValue()) {
      return seen;
    }
    if (expected.get("exactCount") instanceof Number exact && actual.size() != exact.intValue()) {
      return seen;
    }
    if (Boolean.TRUE.equals(expected.get("typeSet"))
        && actual.stream().noneMatch(a -> a.getType() != null && !a.getType().isEmpty())) {
      return seen;
    }
    for (Object item : Yaml.list(expected.get("contains"))) {
      Map<String, Object> address = Yaml.map(item);
      String value = ManifestStore.substituteAddresses(Yaml.string(address.get("value")));
      String type = ManifestStore.substituteAddresses(Yaml.string(address.get("type")));
      boolean present = actual.stream().anyMatch(a -> Objects.equals(a.getValue(), value)
          && (type == null || Objects.equals(a.getType(), type)));
      if (!present) {
        return seen + " (missing " + address + ")";
      }
    }
    for (String raw : Yaml.strings(expected.get("notContains"))) {
      String value = ManifestStore.substituteAddresses(raw);
      if (actual.stream().anyMatch(a -> value.equals(a.getValue()))) {
        return seen + " (must not contain " + value + ")";
      }
    }
    return null;
  }

  static boolean refersTo(ParentReference ref, String namespace, String name) {
    return ref != null && name.equals(ref.getName())
        && (ref.getNamespace() == null || namespace.equals(ref.getNamespace()));
  }

  private static ListenerStatus listener(GatewayStatus status, String name) {
    return nullToEmpty(status.getListeners()).stream().filter(l -> name.equals(l.getName()))
        .findFirst().orElse(null);
  }

  static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  private static String describeListeners(GatewayStatus status) {
    return ListenerView.describe(ListenerView.of(status));
  }

  private static String describeKinds(List<RouteGroupKind> kinds) {
    return kinds.stream().map(RouteGroupKind::getKind).toList().toString();
  }

  static String describeParents(List<RouteParentStatus> parents) {
    List<String> parts = new ArrayList<>();
    for (RouteParentStatus p : parents) {
      parts.add(describeRef(p.getParentRef()) + " " + p.getControllerName() + " "
          + ConditionCheck.describe(p.getConditions()));
    }
    return parts.toString();
  }

  static String describeRef(ParentReference ref) {
    return ref == null ? "null" : ref.getGroup() + "/" + ref.getKind() + " " + ref.getNamespace()
        + "/" + ref.getName() + (ref.getSectionName() == null ? "" : "#" + ref.getSectionName());
  }

  private static String describeAddresses(List<GatewayStatusAddress> addresses) {
    List<String> parts = new ArrayList<>();
    for (GatewayStatusAddress a : nullToEmpty(addresses)) {
      parts.add(a.getType() + ":" + a.getValue());
    }
    return parts.toString();
  }

  /**
   * An expected route parent entry (upstream GatewayAndRoutesMustBeAccepted /
   * HTTPRouteMustHaveParents): group and kind set explicitly, name, namespace (omitted only for
   * the route's own namespace unless required), controllerName, conditions.
   */
  record ParentCheck(String group, String kind, String namespace, String name,
      String controllerName, List<ConditionCheck> conditions) {

    static ParentCheck parse(Map<String, Object> yaml, String controllerName) {
      Map<String, Object> ref = Yaml.map(yaml.get("parentRef"));
      String controller = Yaml.string(yaml.get("controllerName"));
      return new ParentCheck(Yaml.string(ref.get("group")), Yaml.string(ref.get("kind")),
          Yaml.string(ref.get("namespace")), Yaml.string(ref.get("name")),
          controller == null ? null : controller.replace("${CONTROLLER_NAME}", controllerName),
          ConditionCheck.parse(yaml.get("conditions")));
    }

    boolean matches(RouteParentStatus parent, String routeNamespace, boolean namespaceRequired) {
      ParentReference ref = parent.getParentRef();
      if (ref == null || !Objects.equals(group, ref.getGroup())
          || !Objects.equals(kind, ref.getKind()) || !Objects.equals(name, ref.getName())
          || controllerName != null && !controllerName.equals(parent.getControllerName())) {
        return false;
      }
      boolean namespaceOk = ref.getNamespace() == null
          ? !namespaceRequired && Objects.equals(namespace, routeNamespace)
          : Objects.equals(namespace, ref.getNamespace());
      return namespaceOk && ConditionCheck.allMet(conditions, parent.getConditions());
    }

    @Override
    public String toString() {
      return group + "/" + kind + " " + namespace + "/" + name + " " + controllerName + " "
          + conditions;
    }
  }
}
