package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRouteRule;
import io.portico.ir.BackendGroup;
import io.portico.ir.SourceRef;
import io.portico.ir.StreamRoute;
import io.portico.ir.WeightedBackend;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Attaches TLSRoutes, TCPRoutes and UDPRoutes to the TLS, TCP and UDP listeners of Portico's
 * Gateways (parentRefs with sectionName and port, allowedRoutes, SNI hostname intersection for
 * TLSRoutes) and computes each route's status per parent. The three kinds share one schema
 * (parentRefs, one rule of weighted backendRefs, hostnames for TLSRoute only), so one phase
 * serves them.
 */
final class StreamRoutePhase {

  /**
   * The parts of a TLSRoute, TCPRoute or UDPRoute this phase reads.
   *
   * @param route the route object
   * @param kind {@code TLSRoute}, {@code TCPRoute} or {@code UDPRoute}
   * @param parentRefs {@code spec.parentRefs}
   * @param hostnames {@code spec.hostnames} (TLSRoute only; empty for the others)
   * @param rules the backendRefs of each of {@code spec.rules}
   */
  record Spec(HasMetadata route, String kind, List<ParentReference> parentRefs,
      List<String> hostnames, List<List<BackendRef>> rules) {

    static Spec of(TLSRoute route) {
      var spec = route.getSpec();
      List<List<BackendRef>> rules = new ArrayList<>();
      if (spec != null && spec.getRules() != null) {
        for (TLSRouteRule rule : spec.getRules()) {
          rules.add(rule == null || rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs());
        }
      }
      return new Spec(route, "TLSRoute", spec == null ? null : spec.getParentRefs(),
          spec == null || spec.getHostnames() == null ? List.of() : spec.getHostnames(), rules);
    }

    static Spec of(TCPRoute route) {
      var spec = route.getSpec();
      List<List<BackendRef>> rules = new ArrayList<>();
      if (spec != null && spec.getRules() != null) {
        for (TCPRouteRule rule : spec.getRules()) {
          rules.add(rule == null || rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs());
        }
      }
      return new Spec(route, "TCPRoute", spec == null ? null : spec.getParentRefs(), List.of(),
          rules);
    }

    static Spec of(UDPRoute route) {
      var spec = route.getSpec();
      List<List<BackendRef>> rules = new ArrayList<>();
      if (spec != null && spec.getRules() != null) {
        for (UDPRouteRule rule : spec.getRules()) {
          rules.add(rule == null || rule.getBackendRefs() == null ? List.of() : rule.getBackendRefs());
        }
      }
      return new Spec(route, "UDPRoute", spec == null ? null : spec.getParentRefs(), List.of(),
          rules);
    }

    String namespace() {
      return route.getMetadata().getNamespace();
    }

    String describe() {
      return kind + " " + namespace() + "/" + route.getMetadata().getName();
    }
  }

  /** A route's single rule, compiled once whatever the number of listeners it attaches to. */
  private record CompiledRule(BackendGroup backends, String invalid, String unresolvedReason,
      List<String> unresolved) {
  }

  private final SnapshotIndex index;
  private final RouteParent.Resolver routeParents;
  private final String controllerName;

  StreamRoutePhase(SnapshotIndex index, RouteParent.Resolver routeParents, String controllerName) {
    this.index = index;
    this.controllerName = controllerName;
    this.routeParents = routeParents;
  }

  /**
   * Attaches {@code routes} (sorted oldest first, so that the oldest route of a listener comes
   * first) and returns each route's parents entries for Portico's Gateways.
   */
  Map<ObjectKey, List<RouteParentStatus>> process(List<Spec> routes) {
    Map<ObjectKey, List<RouteParentStatus>> statuses = new LinkedHashMap<>();
    for (Spec route : routes) {
      List<RouteParentStatus> parents = new ArrayList<>();
      CompiledRule rule = null;
      List<ParentReference> refs = route.parentRefs() == null ? List.of() : route.parentRefs();
      for (ParentReference ref : refs) {
        if (ref == null) {
          continue;
        }
        RouteParent gateway = routeParents.resolve(ref, route.namespace());
        if (gateway == null) {
          continue; // Another controller's parent (or none at all): not ours to report on.
        }
        if (rule == null) {
          rule = compile(route);
        }
        parents.add(attach(route, ref, gateway, rule));
      }
      if (!parents.isEmpty()) {
        statuses.put(ObjectKey.of(route.route()), parents);
      }
    }
    return statuses;
  }

  /**
   * Compiles the route's rule. Without match criteria there is nothing to choose between
   * several rules by, so exactly one is served (as Envoy Gateway does).
   */
  private CompiledRule compile(Spec route) {
    String ruleName = route.kind().toLowerCase(Locale.ROOT) + "/" + route.namespace() + "/"
        + route.route().getMetadata().getName() + "/rule/0";
    if (route.rules().isEmpty()) {
      return new CompiledRule(BackendGroup.of(ruleName, List.of()),
          "spec.rules is empty (expected: 1 rule)", null, List.of());
    }
    if (route.rules().size() > 1) {
      return new CompiledRule(BackendGroup.of(ruleName, List.of()), "spec.rules has "
          + route.rules().size() + " rules (expected: 1; a " + route.kind()
          + " has no match criteria to choose between rules)", null, List.of());
    }
    List<BackendRef> refs = route.rules().get(0);
    List<WeightedBackend> backends = new ArrayList<>();
    String unresolvedReason = null;
    List<String> unresolved = new ArrayList<>();
    for (int r = 0; r < refs.size(); r++) {
      BackendRef ref = refs.get(r);
      if (ref == null) {
        continue;
      }
      BackendRefResolver.Resolution resolution =
          BackendRefResolver.resolve(index, route.kind(), route.route(), ruleName, 0, r, ref);
      backends.add(resolution.backend());
      if (resolution.failureReason() != null) {
        unresolvedReason = unresolvedReason == null ? resolution.failureReason() : unresolvedReason;
        unresolved.add(resolution.failureMessage());
      }
    }
    return new CompiledRule(BackendGroup.of(ruleName, backends), null, unresolvedReason,
        List.copyOf(unresolved));
  }

  private RouteParentStatus attach(Spec route, ParentReference ref, RouteParent gateway,
      CompiledRule rule) {
    long generation = SnapshotIndex.generation(route.route());
    String routeName = route.describe();
    ListenerAdmission.Match match = ListenerAdmission.match(index, route.kind(), route.namespace(),
        routeName, route.hostnames(), !"TLSRoute".equals(route.kind()), ref, gateway);
    Map<ListenerState, List<String>> hostnames = match.hostnames();
    String refusalReason = match.refusalReason();
    String refusal = match.refusal();
    if (refusal == null && rule.invalid() != null) {
      refusalReason = Conditions.REASON_UNSUPPORTED_VALUE;
      refusal = routeName + ": " + rule.invalid();
    }

    List<Condition> conditions = new ArrayList<>();
    if (refusal != null) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, refusalReason, refusal, generation));
    } else {
      conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
          "Route is accepted", generation));
      SourceRef source = new SourceRef(route.kind(), route.namespace(),
          route.route().getMetadata().getName(), "rule/0");
      hostnames.forEach((listener, names) -> {
        listener.attachedRoutes++;
        listener.streamRoutes.add(new StreamRoute(rule.backends().name(), source, names,
            rule.backends()));
      });
    }
    if (rule.unresolvedReason() == null) {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "Resolved all the Object references for the Route", generation));
    } else {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false, rule.unresolvedReason(),
          String.join("; ", rule.unresolved()), generation));
    }
    return new RouteParentStatusBuilder()
        .withParentRef(ListenerAdmission.echoParentRef(ref, gateway))
        .withControllerName(controllerName)
        .withConditions(conditions)
        .build();
  }
}
