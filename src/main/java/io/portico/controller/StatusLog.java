package io.portico.controller;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;
import io.portico.status.StatusReport;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a {@link StatusReport} into the lines an operator needs in the log: one per condition
 * that reports a problem (a False Accepted, Programmed or ResolvedRefs, a True Conflicted,
 * PartiallyInvalid or policy Warning), naming the object and the condition's message.
 */
final class StatusLog {

  private StatusLog() {
  }

  static List<String> problems(StatusReport report) {
    List<String> lines = new ArrayList<>();
    for (Map.Entry<ObjectKey, GatewayStatus> entry : report.gateways().entrySet()) {
      add(lines, entry.getKey().toString(), entry.getValue().getConditions());
      if (entry.getValue().getListeners() != null) {
        for (ListenerStatus listener : entry.getValue().getListeners()) {
          add(lines, entry.getKey() + " listener " + listener.getName(), listener.getConditions());
        }
      }
    }
    for (Map.Entry<ObjectKey, HTTPRouteStatus> entry : report.httpRoutes().entrySet()) {
      addParents(lines, entry.getKey(), entry.getValue().getParents());
    }
    // Policies of kinds Portico does not implement: the operator must hear of them (a
    // SecurityPolicy makes its routes answer 500). One line per policy and message.
    addPolicies(lines, report.unimplementedPolicies(), (key, condition) -> key.toString());
    // BackendTrafficPolicies: a refusal, and the fields not applied (Warning: fields Portico
    // does not implement, such as a rate limit it does not enforce, or fields a stream route
    // does not take). The generation is in the line, so each edit of the policy is logged once
    // again.
    addPolicies(lines, report.backendTrafficPolicies(),
        (key, condition) -> key + " (generation " + condition.getObservedGeneration() + ")");
    report.tlsRoutes().forEach((key, status) -> addParents(lines, key, status.getParents()));
    report.tcpRoutes().forEach((key, status) -> addParents(lines, key, status.getParents()));
    report.udpRoutes().forEach((key, status) -> addParents(lines, key, status.getParents()));
    report.listenerSets().forEach((key, status) -> {
      add(lines, key.toString(), status.getConditions());
      if (status.getListeners() != null) {
        status.getListeners().forEach(listener ->
            add(lines, key + " listener " + listener.getName(), listener.getConditions()));
      }
    });
    report.grpcRoutes().forEach((key, status) -> addParents(lines, key, status.getParents()));
    return lines;
  }

  private static void addParents(List<String> lines, ObjectKey route,
      List<RouteParentStatus> parents) {
    for (RouteParentStatus parent : parents) {
      // Named only when a condition is a problem: at 10k routes, building every route's name
      // at each translation was most of this pass.
      add(lines, () -> route + " (parent " + parent.getParentRef().getKind() + " "
          + parent.getParentRef().getNamespace() + "/"
          + parent.getParentRef().getName() + ")", parent.getConditions());
    }
  }

  /** One line per policy and problem message, whatever the number of ancestors. */
  private static void addPolicies(List<String> lines, Map<ObjectKey, PolicyStatus> policies,
      java.util.function.BiFunction<ObjectKey, Condition, String> label) {
    for (Map.Entry<ObjectKey, PolicyStatus> entry : policies.entrySet()) {
      Set<String> seen = new HashSet<>();
      for (PolicyAncestorStatus ancestor : entry.getValue().getAncestors()) {
        for (Condition condition : ancestor.getConditions()) {
          if (seen.add(condition.getReason() + condition.getMessage())) {
            add(lines, () -> label.apply(entry.getKey(), condition), List.of(condition));
          }
        }
      }
    }
  }

  private static void add(List<String> lines, String object, List<Condition> conditions) {
    add(lines, () -> object, conditions);
  }

  private static void add(List<String> lines, java.util.function.Supplier<String> object,
      List<Condition> conditions) {
    if (conditions == null) {
      return;
    }
    for (Condition condition : conditions) {
      boolean isTrue = "True".equals(condition.getStatus());
      boolean badWhenTrue = condition.getType().equals(Conditions.CONFLICTED)
          || condition.getType().equals(Conditions.PARTIALLY_INVALID)
          || condition.getType().equals(Conditions.WARNING);
      if (isTrue == badWhenTrue) {
        lines.add(object.get() + ": " + condition.getType() + "=" + condition.getStatus() + " "
            + condition.getReason() + ": " + condition.getMessage());
      }
    }
  }
}
