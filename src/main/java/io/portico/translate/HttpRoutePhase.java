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
import java.util.List;
import java.util.Map;

/**
 * Attaches HTTPRoutes to the listeners of Portico's Gateways (parentRefs, sectionName, port,
 * allowedRoutes, hostname intersection) and computes each route's status per parent.
 */
final class HttpRoutePhase {

  private final SnapshotIndex index;
  private final RouteParent.Resolver routeParents;
  private final String controllerName;

  HttpRoutePhase(SnapshotIndex index, RouteParent.Resolver routeParents, String controllerName) {
    this.index = index;
    this.controllerName = controllerName;
    this.routeParents = routeParents;
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
        RouteParent gateway = routeParents.resolve(ref, route.getMetadata().getNamespace());
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

  private RouteParentStatus attach(HTTPRoute route, ParentReference ref, RouteParent gateway,
      CompiledRoute compiled) {
    long generation = SnapshotIndex.generation(route);
    String routeName = "HTTPRoute " + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName();
    List<Condition> conditions = new ArrayList<>();
    ListenerAdmission.Match match = ListenerAdmission.match(index, "HTTPRoute",
        route.getMetadata().getNamespace(), routeName, route.getSpec().getHostnames(), false,
        ref, gateway);
    Map<ListenerState, List<String>> hostnames = match.hostnames();
    String refusalReason = match.refusalReason();
    String refusal = match.refusal();
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
      hostnames.forEach((listener, names) -> {
        listener.attachedRoutes++;
        addEntries(listener, compiled, names);
      });
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
        .withParentRef(ListenerAdmission.echoParentRef(ref, gateway))
        .withControllerName(controllerName)
        .withConditions(conditions)
        .build();
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

}
