package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import io.portico.ir.RouteMatch;
import io.portico.ir.SourceRef;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Attaches HTTPRoutes to the listeners of Portico's Gateways (parentRefs, sectionName, port,
 * allowedRoutes, hostname intersection) and computes each route's status per parent.
 */
final class HttpRoutePhase {

  private final SnapshotIndex index;
  private final Map<String, GatewayState> gateways = new HashMap<>();
  private final String controllerName;

  HttpRoutePhase(SnapshotIndex index, List<GatewayState> gatewayStates, String controllerName) {
    this.index = index;
    this.controllerName = controllerName;
    for (GatewayState state : gatewayStates) {
      gateways.put(SnapshotIndex.key(state.gateway()), state);
    }
  }

  /** Attaches {@code routes} (sorted oldest first) and returns their status. */
  Map<ObjectKey, HTTPRouteStatus> process(List<HTTPRoute> routes) {
    Map<ObjectKey, HTTPRouteStatus> statuses = new HashMap<>();
    for (HTTPRoute route : routes) {
      List<RouteParentStatus> parents = new ArrayList<>();
      CompiledRoute compiled = null;
      List<ParentReference> refs = route.getSpec() == null || route.getSpec().getParentRefs() == null
          ? List.of() : route.getSpec().getParentRefs();
      for (ParentReference ref : refs) {
        GatewayState gateway = ourGateway(route, ref);
        if (gateway == null) {
          continue; // Another controller's parent (or none at all): not ours to report on.
        }
        if (compiled == null) {
          compiled = RuleCompiler.compile(index, route);
        }
        parents.add(attach(route, ref, gateway, compiled));
      }
      if (!parents.isEmpty()) {
        statuses.put(ObjectKey.of(route), new HTTPRouteStatusBuilder().withParents(parents).build());
      }
    }
    return statuses;
  }

  private GatewayState ourGateway(HTTPRoute route, ParentReference ref) {
    String group = ref.getGroup() == null ? ReferenceGrants.GATEWAY_GROUP : ref.getGroup();
    String kind = ref.getKind() == null ? "Gateway" : ref.getKind();
    if (!group.equals(ReferenceGrants.GATEWAY_GROUP) || !kind.equals("Gateway")) {
      return null;
    }
    String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? route.getMetadata().getNamespace() : ref.getNamespace();
    return gateways.get(namespace + "/" + ref.getName());
  }

  private RouteParentStatus attach(HTTPRoute route, ParentReference ref, GatewayState gateway,
      CompiledRoute compiled) {
    long generation = SnapshotIndex.generation(route);
    String routeName = "HTTPRoute " + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName();
    List<Condition> conditions = new ArrayList<>();
    String refusal = null;
    String refusalReason = null;

    List<ListenerState> candidates = new ArrayList<>();
    for (ListenerState listener : gateway.listeners()) {
      if (ref.getSectionName() != null && !ref.getSectionName().equals(listener.name())) {
        continue;
      }
      if (ref.getPort() != null && ref.getPort() != listener.port()) {
        continue;
      }
      candidates.add(listener);
    }
    Gateway gw = gateway.gateway();
    String gatewayName = "Gateway " + gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName();
    if (candidates.isEmpty()) {
      refusalReason = Conditions.REASON_NO_MATCHING_PARENT;
      refusal = gatewayName + " has no listener"
          + (ref.getSectionName() == null ? "" : " named '" + ref.getSectionName() + "'")
          + (ref.getPort() == null ? "" : " on port " + ref.getPort());
    }

    List<ListenerState> allowed = new ArrayList<>();
    List<String> notAllowed = new ArrayList<>();
    for (ListenerState listener : candidates) {
      String why = whyNotAllowed(route, listener);
      if (why == null) {
        allowed.add(listener);
      } else {
        notAllowed.add(why);
      }
    }
    if (refusal == null && allowed.isEmpty()) {
      refusalReason = Conditions.REASON_NOT_ALLOWED_BY_LISTENERS;
      refusal = routeName + " is not allowed by " + String.join("; ", notAllowed);
    }

    Map<ListenerState, List<String>> hostnames = new HashMap<>();
    for (ListenerState listener : allowed) {
      List<String> intersection = intersect(listener, route);
      if (!intersection.isEmpty()) {
        hostnames.put(listener, intersection);
      }
    }
    if (refusal == null && hostnames.isEmpty()) {
      refusalReason = Conditions.REASON_NO_MATCHING_LISTENER_HOSTNAME;
      refusal = "none of the hostnames " + route.getSpec().getHostnames() + " of " + routeName
          + " match a hostname of the listeners it may attach to on " + gatewayName;
    }
    if (refusal == null && compiled.allRulesInvalid()) {
      refusalReason = Conditions.REASON_UNSUPPORTED_VALUE;
      refusal = "every rule of " + routeName + " is invalid: "
          + String.join("; ", compiled.invalidRules());
    }

    if (refusal != null) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, refusalReason, refusal, generation));
    } else {
      conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
          "Route is accepted", generation));
      for (ListenerState listener : allowed) {
        List<String> names = hostnames.get(listener);
        if (names == null) {
          continue;
        }
        listener.attachedRoutes++;
        addEntries(listener, compiled, names);
      }
    }
    if (!compiled.invalidRules().isEmpty() && !compiled.allRulesInvalid()) {
      conditions.add(Conditions.of(Conditions.PARTIALLY_INVALID, true,
          Conditions.REASON_UNSUPPORTED_VALUE, "dropped: " + String.join("; ", compiled.invalidRules()),
          generation));
    }
    if (compiled.unresolvedReason() == null) {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "Resolved all the Object references for the Route", generation));
    } else {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false, compiled.unresolvedReason(),
          String.join("; ", compiled.unresolvedRefs()), generation));
    }
    return new RouteParentStatusBuilder()
        .withParentRef(echoParentRef(ref, gw))
        .withControllerName(controllerName)
        .withConditions(conditions)
        .build();
  }

  /** Returns why a listener refuses the route, or null when it takes it. */
  private String whyNotAllowed(HTTPRoute route, ListenerState listener) {
    return ListenerAdmission.whyNotAllowed(index, "HTTPRoute", route.getMetadata().getNamespace(),
        listener);
  }

  private static List<String> intersect(ListenerState listener, HTTPRoute route) {
    List<String> routeHostnames = route.getSpec().getHostnames();
    Set<String> result = new LinkedHashSet<>();
    if (routeHostnames == null || routeHostnames.isEmpty()) {
      result.add(listener.hostname() == null ? Hostnames.ANY : listener.hostname().toLowerCase());
    } else {
      for (String hostname : routeHostnames) {
        String intersection = Hostnames.intersect(listener.hostname(), hostname);
        if (intersection != null) {
          result.add(intersection);
        }
      }
    }
    return List.copyOf(result);
  }

  private static void addEntries(ListenerState listener, CompiledRoute compiled,
      List<String> hostnames) {
    HTTPRoute route = compiled.route();
    String base = "httproute/" + route.getMetadata().getNamespace() + "/" + route.getMetadata().getName();
    for (CompiledRoute.Rule rule : compiled.rules()) {
      SourceRef source = new SourceRef("HTTPRoute", route.getMetadata().getNamespace(),
          route.getMetadata().getName(), "rule/" + rule.index());
      for (int m = 0; m < rule.matches().size(); m++) {
        RouteMatch match = rule.matches().get(m);
        listener.routes.add(new RouteEntry(route, rule.index(), m,
            base + "/rule/" + rule.index() + "/match/" + m, source, match, rule.backends(), hostnames,
            rule.filters()));
      }
    }
  }

  private static ParentReference echoParentRef(ParentReference ref, Gateway gateway) {
    return ListenerAdmission.echoParentRef(ref, gateway);
  }
}
