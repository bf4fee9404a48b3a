package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.ir.RouteMatch;
import io.portico.ir.SourceRef;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Supplier;

/**
 * Attaches HTTPRoutes and GRPCRoutes to the listeners of Portico's Gateways (parentRefs,
 * sectionName, port, allowedRoutes, hostname intersection) and computes each route's status
 * per parent. Both kinds are handled in one pass, oldest first, because of the GRPCRoute
 * conflict rule (GRPCRouteSpec.hostnames, GEP-1016): of an HTTPRoute and a GRPCRoute whose
 * hostnames intersect on one listener, only the older (then namespace/name first) attaches
 * there; the other is refused on that listener.
 */
final class HttpRoutePhase {

  /** The status of the routes of both kinds, keyed by route. */
  record Result(SortedMap<ObjectKey, HTTPRouteStatus> httpRoutes,
      SortedMap<ObjectKey, GRPCRouteStatus> grpcRoutes) {
  }

  /** One route of either kind on its way through the phase. */
  private record Pending(HasMetadata route, String kind, List<ParentReference> parentRefs,
      List<String> hostnames, Supplier<CompiledRoute> compiler) {
  }

  /** An HTTPRoute or GRPCRoute already attached to a listener, with the names it serves there. */
  private record Attached(String kind, String name, List<String> hostnames) {
  }

  private final SnapshotIndex index;
  private final RouteParent.Resolver routeParents;
  private final String controllerName;
  private final CompiledRoutes.Session compiledRoutes;
  private final AttachedRoutes.Session attachedRoutes;
  private final RouteOrder routeOrder;
  /**
   * Every listener of the translation's Gateways, in order: a listener's index here is its
   * {@link ListenerState#position}, how a remembered attachment names its listeners across
   * translations (see {@link AttachedRoutes.Placement}).
   */
  private final List<ListenerState> listeners = new ArrayList<>();
  /**
   * Per kind and listener, the routes attached so far: what the conflict rule compares a route
   * of the other kind against (an HTTPRoute-only configuration never compares anything).
   */
  private final Map<String, Map<ListenerState, List<Attached>>> attached = new HashMap<>();

  HttpRoutePhase(SnapshotIndex index, List<GatewayState> gateways,
      RouteParent.Resolver routeParents, String controllerName,
      CompiledRoutes.Session compiledRoutes, AttachedRoutes.Session attachedRoutes,
      RouteOrder routeOrder) {
    this.index = index;
    this.routeOrder = routeOrder;
    this.compiledRoutes = compiledRoutes;
    this.attachedRoutes = attachedRoutes;
    for (GatewayState gateway : gateways) {
      for (ListenerState listener : gateway.listeners()) {
        listener.position = listeners.size();
        listeners.add(listener);
      }
    }
    this.controllerName = controllerName;
    this.routeParents = routeParents;
  }

  /** Attaches {@code routes} and {@code grpcRoutes} and returns their status. */
  Result process(List<HTTPRoute> routes, List<GRPCRoute> grpcRoutes) {
    // Oldest first over both kinds: the conflict rule lets the older route keep a listener.
    // (sortOldestFirst reads each timestamp once: a comparator parsing them at every comparison
    // was a large share of translation time at thousands of routes.)
    List<HasMetadata> all = new ArrayList<>(routes.size() + grpcRoutes.size());
    all.addAll(routes);
    all.addAll(grpcRoutes);
    List<HasMetadata> ordered = routeOrder.sort(all, !routes.isEmpty() && !grpcRoutes.isEmpty());
    for (HasMetadata object : ordered) {
      AttachedRoutes.Attachment reused = attachedRoutes.reusable(object);
      if (reused != null) {
        compiledRoutes.keep(object);
        place(reused);
      } else if (object instanceof GRPCRoute route) {
        attachedRoutes.attached(route, attach(new Pending(route, "GRPCRoute",
            route.getSpec() == null ? null : route.getSpec().getParentRefs(),
            route.getSpec() == null ? null : route.getSpec().getHostnames(),
            () -> GrpcRuleCompiler.compile(index, route))));
      } else if (object instanceof HTTPRoute route) {
        attachedRoutes.attached(route, attach(new Pending(route, "HTTPRoute",
            route.getSpec() == null ? null : route.getSpec().getParentRefs(),
            route.getSpec() == null ? null : route.getSpec().getHostnames(),
            () -> RuleCompiler.compile(index, route))));
      }
    }
    return new Result(attachedRoutes.status(false), attachedRoutes.status(true));
  }

  /** Adds a remembered attachment's entries to its listeners, as attaching it again would. */
  private void place(AttachedRoutes.Attachment attachment) {
    for (AttachedRoutes.Placement placement : attachment.placements()) {
      ListenerState listener = listeners.get(placement.listener());
      listener.attachedRoutes++;
      listener.routes.addAll(placement.entries());
    }
  }

  /** Attaches one route to the listeners its parentRefs name; returns how it attached. */
  private AttachedRoutes.Attachment attach(Pending route) {
    List<RouteParentStatus> parents = new ArrayList<>();
    List<AttachedRoutes.Placement> placements = new ArrayList<>();
    CompiledRoute compiled = null;
    List<ParentReference> refs = route.parentRefs() == null ? List.of() : route.parentRefs();
    for (ParentReference ref : refs) {
      RouteParent gateway = routeParents.resolve(ref,
          route.route().getMetadata().getNamespace());
      if (gateway == null) {
        continue; // Another controller's parent (or none at all): not ours to report on.
      }
      if (compiled == null) {
        compiled = compiledRoutes.compile(route.route(), route.compiler());
      }
      parents.add(attach(route, ref, gateway, compiled, placements));
    }
    ObjectKey key = ObjectKey.of(route.route());
    if (parents.isEmpty()) {
      return new AttachedRoutes.Attachment(key, null, List.of());
    }
    // Constructors, not builders (which copy everything again): one status per route.
    Object status;
    if (route.route() instanceof GRPCRoute) {
      GRPCRouteStatus grpc = new GRPCRouteStatus(parents);
      grpc.setAdditionalProperties(Conditions.NO_EXTRA_FIELDS);
      status = grpc;
    } else {
      HTTPRouteStatus http = new HTTPRouteStatus(parents);
      http.setAdditionalProperties(Conditions.NO_EXTRA_FIELDS);
      status = http;
    }
    return new AttachedRoutes.Attachment(key, status, List.copyOf(placements));
  }

  private RouteParentStatus attach(Pending route, ParentReference ref, RouteParent gateway,
      CompiledRoute compiled, List<AttachedRoutes.Placement> placements) {
    long generation = SnapshotIndex.generation(route.route());
    String routeName = route.kind() + " " + route.route().getMetadata().getNamespace() + "/"
        + route.route().getMetadata().getName();
    List<Condition> conditions = new ArrayList<>();
    ListenerAdmission.Match match = ListenerAdmission.match(index, route.kind(),
        route.route().getMetadata().getNamespace(), routeName, route.hostnames(), false,
        ref, gateway);
    Map<ListenerState, List<String>> hostnames = new LinkedHashMap<>(match.hostnames());
    String refusalReason = match.refusalReason();
    String refusal = match.refusal();
    if (refusal == null && compiled.allRulesInvalid()) {
      refusalReason = compiled.invalidReason();
      refusal = "every rule of " + routeName + " is invalid: "
          + String.join("; ", compiled.invalidRules());
    }
    if (refusal == null) {
      // A route that would attach gives up the listeners where an older route of the other
      // kind already serves one of its names.
      List<String> conflicts = new ArrayList<>();
      hostnames.entrySet().removeIf(entry -> {
        Attached older = conflicting(entry.getKey(), route.kind(), entry.getValue());
        if (older != null) {
          conflicts.add(entry.getKey().describe() + ", where " + older.kind() + " "
              + older.name() + " already serves some of the same hostnames");
        }
        return older != null;
      });
      if (hostnames.isEmpty()) {
        refusalReason = Conditions.REASON_NOT_ALLOWED_BY_LISTENERS;
        refusal = routeName + " is not accepted on " + String.join("; ", conflicts)
            + ": an HTTPRoute and a GRPCRoute may not share a hostname on one listener, and"
            + " the older route keeps it";
      }
    }

    if (refusal != null) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, refusalReason, refusal, generation));
    } else {
      conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
          "Route is accepted", generation));
      hostnames.forEach((listener, names) -> {
        listener.attachedRoutes++;
        attached.computeIfAbsent(route.kind(), k -> new IdentityHashMap<>())
            .computeIfAbsent(listener, l -> new ArrayList<>())
            .add(new Attached(route.kind(), routeName.substring(route.kind().length() + 1),
                names));
        List<RouteEntry> entries = entries(route.kind(), compiled, names);
        listener.routes.addAll(entries);
        placements.add(new AttachedRoutes.Placement(listener.position, entries));
      });
    }
    if (!compiled.invalidRules().isEmpty() && !compiled.allRulesInvalid()) {
      // Gateway API RouteConditionPartiallyInvalid: a route that drops its invalid rules says so
      // in a message that MUST start with "Dropped Rule".
      conditions.add(Conditions.of(Conditions.PARTIALLY_INVALID, true,
          compiled.invalidReason(), "Dropped Rule(s): "
              + String.join("; ", compiled.invalidRules()), generation));
    }
    if (compiled.unresolvedReason() == null) {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "Resolved all the Object references for the Route", generation));
    } else {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false, compiled.unresolvedReason(),
          String.join("; ", compiled.unresolvedRefs()), generation));
    }
    RouteParentStatus status = new RouteParentStatus();
    status.setParentRef(ListenerAdmission.echoParentRef(ref, gateway));
    status.setControllerName(controllerName);
    status.setConditions(conditions);
    status.setAdditionalProperties(Conditions.NO_EXTRA_FIELDS);
    return status;
  }

  /**
   * Returns the route of the other kind (HTTPRoute or GRPCRoute) already attached to
   * {@code listener} whose names intersect {@code hostnames}, or null when there is none.
   */
  private Attached conflicting(ListenerState listener, String kind, List<String> hostnames) {
    String otherKind = kind.equals("GRPCRoute") ? "HTTPRoute" : "GRPCRoute";
    for (Attached other : attached.getOrDefault(otherKind, Map.of())
        .getOrDefault(listener, List.of())) {
      for (String mine : hostnames) {
        for (String theirs : other.hostnames()) {
          if (Hostnames.covers(mine, theirs) || Hostnames.covers(theirs, mine)) {
            return other;
          }
        }
      }
    }
    return null;
  }

  /** Returns the entries of a route's valid rules on a listener where it serves {@code hostnames}. */
  private static List<RouteEntry> entries(String kind, CompiledRoute compiled,
      List<String> hostnames) {
    List<RouteEntry> entries = new ArrayList<>();
    HasMetadata route = compiled.route();
    String base = kind.toLowerCase(Locale.ROOT) + "/" + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName();
    for (CompiledRoute.Rule rule : compiled.rules()) {
      SourceRef source = new SourceRef(kind, route.getMetadata().getNamespace(),
          route.getMetadata().getName(), "rule/" + rule.index());
      for (int m = 0; m < rule.matches().size(); m++) {
        RouteMatch match = rule.matches().get(m);
        entries.add(new RouteEntry(route, rule.index(), m,
            base + "/rule/" + rule.index() + "/match/" + m, source, match, rule.backends(), hostnames,
            rule.filters(), rule.grpcMatches().isEmpty() ? null : rule.grpcMatches().get(m)));
      }
    }
    return List.copyOf(entries);
  }
}
