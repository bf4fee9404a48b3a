package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatusBuilder;
import io.portico.ir.TrafficPolicy;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Attaches Envoy Gateway BackendTrafficPolicies (their settings are read by
 * {@link TrafficPolicySpec}) to routes and reports their status.
 *
 * <p>Targets: {@code targetRef} or {@code targetRefs} naming an HTTPRoute of the policy's
 * namespace. Of two valid policies on the same route the oldest wins (then by name); the other
 * gets {@code Accepted=False Conflicted}. Status: one ancestor per Gateway that accepted a
 * targeted route; a policy whose route does not exist names that route as its ancestor, with
 * {@code Accepted=False TargetNotFound}.
 */
final class TrafficPolicyPhase {

  static final String REASON_TARGET_NOT_FOUND = "TargetNotFound";
  static final String REASON_CONFLICTED = "Conflicted";
  private static final String GATEWAY_GROUP = "gateway.networking.k8s.io";

  /**
   * @param byRoute what each targeted route's rules get
   * @param status the status of every BackendTrafficPolicy
   */
  record Result(Map<ObjectKey, TrafficPolicy> byRoute, Map<ObjectKey, PolicyStatus> status) {
  }

  private TrafficPolicyPhase() {
  }

  /**
   * @param policies the BackendTrafficPolicies, oldest first
   * @param routes every HTTPRoute of the snapshot
   * @param gatewaysByRoute the Gateways that accepted each route
   */
  static Result process(List<GenericKubernetesResource> policies, List<HTTPRoute> routes,
      Map<ObjectKey, Set<ObjectKey>> gatewaysByRoute, String controllerName) {
    Map<ObjectKey, HTTPRoute> routeByKey = new HashMap<>();
    for (HTTPRoute route : routes) {
      routeByKey.put(ObjectKey.of(route), route);
    }
    Map<ObjectKey, TrafficPolicy> byRoute = new HashMap<>();
    Map<ObjectKey, PolicyStatus> status = new TreeMap<>();
    for (GenericKubernetesResource policy : policies) {
      String namespace = policy.getMetadata().getNamespace();
      Map<String, Object> spec = PolicyFields.map(policy.getAdditionalProperties().get("spec"));
      List<ObjectKey> targets = new ArrayList<>();
      String reason = null;
      String message = null;
      try {
        targets = targets(spec, namespace);
        TrafficPolicy settings = TrafficPolicySpec.parse(policy);
        for (ObjectKey target : targets) {
          if (!routeByKey.containsKey(target)) {
            throw new InvalidPolicy(REASON_TARGET_NOT_FOUND,
                "HTTPRoute " + target.namespace() + "/" + target.name() + " not found");
          }
        }
        for (ObjectKey target : targets) {
          if (byRoute.containsKey(target)) {
            throw new InvalidPolicy(REASON_CONFLICTED, "HTTPRoute " + target.namespace() + "/"
                + target.name() + " already has a BackendTrafficPolicy ("
                + byRoute.get(target).policy() + "); the oldest wins");
          }
        }
        for (ObjectKey target : targets) {
          byRoute.put(target, settings);
        }
      } catch (InvalidPolicy e) {
        reason = e.reason;
        message = e.getMessage();
      }
      status.put(ObjectKey.of(policy), status(policy, targets, routeByKey, gatewaysByRoute,
          reason, message, controllerName));
    }
    return new Result(byRoute, status);
  }

  private static PolicyStatus status(GenericKubernetesResource policy, List<ObjectKey> targets,
      Map<ObjectKey, HTTPRoute> routes, Map<ObjectKey, Set<ObjectKey>> gatewaysByRoute,
      String reason, String message, String controllerName) {
    Set<ObjectKey> ancestors = new TreeSet<>();
    for (ObjectKey target : targets) {
      Set<ObjectKey> gateways = gatewaysByRoute.getOrDefault(target, Set.of());
      // With no Gateway to report under, the route itself carries the verdict.
      ancestors.addAll(routes.containsKey(target) && !gateways.isEmpty() ? gateways : Set.of(target));
    }
    long generation = SnapshotIndex.generation(policy);
    boolean accepted = reason == null;
    List<PolicyAncestorStatus> entries = new ArrayList<>();
    for (ObjectKey ancestor : ancestors) {
      entries.add(new PolicyAncestorStatusBuilder()
          .withAncestorRef(new ParentReferenceBuilder().withGroup(GATEWAY_GROUP)
              .withKind(ancestor.kind()).withNamespace(ancestor.namespace())
              .withName(ancestor.name()).build())
          .withControllerName(controllerName)
          .withConditions(Conditions.of(Conditions.ACCEPTED, accepted,
              accepted ? Conditions.REASON_ACCEPTED : reason,
              accepted ? "Policy has been accepted." : message, generation))
          .build());
    }
    return new PolicyStatusBuilder().withAncestors(entries).build();
  }

  private static List<ObjectKey> targets(Map<String, Object> spec, String namespace)
      throws InvalidPolicy {
    List<Map<String, Object>> refs = new ArrayList<>();
    List<String> fields = new ArrayList<>();
    if (spec.get("targetRef") != null) {
      refs.add(PolicyFields.map(spec.get("targetRef")));
      fields.add("spec.targetRef");
    }
    if (spec.get("targetRefs") instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        refs.add(PolicyFields.map(list.get(i)));
        fields.add("spec.targetRefs[" + i + "]");
      }
    }
    if (spec.get("targetSelectors") != null) {
      throw invalid("spec.targetSelectors is not supported yet; use targetRef or targetRefs");
    }
    if (refs.isEmpty()) {
      throw invalid("spec.targetRef or spec.targetRefs is required");
    }
    List<ObjectKey> targets = new ArrayList<>();
    for (int i = 0; i < refs.size(); i++) {
      Map<String, Object> ref = refs.get(i);
      String group = PolicyFields.string(ref.get("group"));
      String kind = PolicyFields.string(ref.get("kind"));
      String name = PolicyFields.string(ref.get("name"));
      if (!GATEWAY_GROUP.equals(group) || !"HTTPRoute".equals(kind)) {
        throw invalid(fields.get(i) + ": only group " + GATEWAY_GROUP
            + ", kind HTTPRoute is supported (got group " + group + ", kind " + kind + ")");
      }
      if (name == null || name.isEmpty()) {
        throw invalid(fields.get(i) + ".name is required");
      }
      if (ref.get("sectionName") != null) {
        throw invalid(fields.get(i) + ".sectionName is not supported yet");
      }
      targets.add(new ObjectKey("HTTPRoute", namespace, name));
    }
    return targets;
  }

  private static InvalidPolicy invalid(String message) {
    return InvalidPolicy.invalid(message);
  }
}
