package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatusBuilder;
import io.portico.ir.TrafficPolicy;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;
import io.portico.translate.PolicyTargets.Ancestor;
import io.portico.translate.PolicyTargets.Level;
import io.portico.translate.PolicyTargets.Resolution;
import io.portico.translate.PolicyTargets.Target;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Attaches Envoy Gateway BackendTrafficPolicies (their settings are read by
 * {@link TrafficPolicySpec}) to Gateways, listeners, HTTPRoutes and named route rules, and
 * reports their status the way Envoy Gateway does.
 *
 * <p>Targets: {@code targetRef}, {@code targetRefs} (Gateway, optionally with a listener as
 * {@code sectionName}; HTTPRoute, optionally with a named rule as {@code sectionName}) and
 * {@code targetSelectors} (Gateways or HTTPRoutes by labels), all in the policy's own namespace.
 * One target (a Gateway, a listener, a route, a rule) holds one policy: the oldest (then by
 * namespace/name) wins and a later one gets {@code Accepted=False Conflicted} on that target's
 * ancestors. A rule then gets the policy of the most specific level that has one: route rule,
 * route, listener, Gateway ({@link Attachments#effective}). A policy displaced that way for some
 * routes stays accepted and also reports {@code Overridden=True} naming them.
 *
 * <p>Ancestors: the Gateway (with the listener as sectionName) for Gateway targets; for route
 * targets every Portico Gateway that accepted the route, with the sectionName of the route's
 * parentRef; the target itself when there is none (missing or unattached target).
 */
final class TrafficPolicyPhase {

  static final String REASON_CONFLICTED = "Conflicted";
  static final String OVERRIDDEN = "Overridden";
  static final String REASON_OVERRIDDEN = "Overridden";

  /** A policy's settings as attached to one target. */
  record Attached(ObjectKey policy, TrafficPolicy settings) {
  }

  /** The winning policy of every target, and the lookup from a rule to its effective policy. */
  static final class Attachments {

    private final Map<String, Attached> claims;

    Attachments(Map<String, Attached> claims) {
      this.claims = claims;
    }

    /** Returns whether no policy attached anywhere (every rule keeps the default). */
    boolean isEmpty() {
      return claims.isEmpty();
    }

    /**
     * Returns the policy one rule of {@code route} gets as attached to {@code listener} of
     * {@code gateway}: the most specific of rule, route, listener, Gateway; null when none.
     */
    TrafficPolicy effective(ObjectKey gateway, String listener, ObjectKey route, int ruleIndex) {
      Attached attached = claims.get(Target.claimKey(Level.RULE, route, String.valueOf(ruleIndex)));
      if (attached == null) {
        attached = claims.get(Target.claimKey(Level.ROUTE, route, null));
      }
      if (attached == null) {
        attached = claims.get(Target.claimKey(Level.LISTENER, gateway, listener));
      }
      if (attached == null) {
        attached = claims.get(Target.claimKey(Level.GATEWAY, gateway, null));
      }
      return attached == null ? null : attached.settings();
    }
  }

  /**
   * @param attachments what each target holds
   * @param status the status of every BackendTrafficPolicy
   */
  record Result(Attachments attachments, Map<ObjectKey, PolicyStatus> status) {
  }

  private final PolicyTargets targets;
  private final String controllerName;

  private TrafficPolicyPhase(PolicyTargets targets, String controllerName) {
    this.targets = targets;
    this.controllerName = controllerName;
  }

  /**
   * @param policies the BackendTrafficPolicies, oldest first
   * @param routes every HTTPRoute and GRPCRoute of the snapshot
   * @param routeParents the status parents of every such route with a Portico parent
   * @param gatewayStates Portico's Gateways, with the route entries attached to each listener
   * @param allGateways every Gateway of the snapshot (to tell another controller's Gateway from
   *     a missing one)
   */
  static Result process(List<GenericKubernetesResource> policies, PolicyTargets targets,
      String controllerName) {
    return new TrafficPolicyPhase(targets, controllerName).run(policies);
  }

  private Result run(List<GenericKubernetesResource> policies) {
    Map<String, Attached> claims = new HashMap<>();
    Map<ObjectKey, List<Resolution>> resolved = new LinkedHashMap<>();
    Map<ObjectKey, InvalidPolicy> invalid = new HashMap<>();
    for (GenericKubernetesResource policy : policies) {
      ObjectKey policyKey = ObjectKey.of(policy);
      List<Resolution> resolutions = new ArrayList<>();
      try {
        resolutions.addAll(targets.resolve(policy));
      } catch (InvalidPolicy e) {
        invalid.put(policyKey, e);
      }
      TrafficPolicy settings = null;
      if (!invalid.containsKey(policyKey)) {
        try {
          settings = TrafficPolicySpec.parse(policy);
        } catch (InvalidPolicy e) {
          invalid.put(policyKey, e);
        }
      }
      List<Resolution> outcome = new ArrayList<>();
      for (Resolution resolution : resolutions) {
        if (settings == null || resolution.target() == null || resolution.reason() != null) {
          outcome.add(resolution); // refused: it gives its target nothing
          continue;
        }
        String claimKey = resolution.target().claimKey();
        Attached holder = claims.get(claimKey);
        if (holder == null) {
          claims.put(claimKey, new Attached(policyKey, settings));
          outcome.add(resolution);
        } else if (holder.policy().equals(policyKey)) {
          outcome.add(resolution); // The same target named twice by one policy.
        } else {
          outcome.add(new Resolution(resolution.target(), resolution.ancestors(),
              REASON_CONFLICTED, "Unable to target " + resolution.target().describe()
                  + ", another BackendTrafficPolicy has already attached to it ("
                  + holder.policy().namespace() + "/" + holder.policy().name()
                  + "; the oldest wins, then by name)"));
        }
      }
      resolved.put(policyKey, outcome);
    }

    Map<ObjectKey, PolicyStatus> status = new TreeMap<>();
    for (GenericKubernetesResource policy : policies) {
      ObjectKey policyKey = ObjectKey.of(policy);
      status.put(policyKey,
          status(policy, resolved.get(policyKey), invalid.get(policyKey), claims));
    }
    return new Result(new Attachments(Map.copyOf(claims)), status);
  }

  /** What one policy gets under one ancestor. */
  private static final class Verdict {
    /** The first refusal under this ancestor (null while accepted) and its message. */
    String reason;
    String message;
    final Overrides overrides = new Overrides();
  }

  private PolicyStatus status(GenericKubernetesResource policy, List<Resolution> resolutions,
      InvalidPolicy invalid, Map<String, Attached> claims) {
    ObjectKey policyKey = ObjectKey.of(policy);
    Map<Ancestor, Verdict> verdicts = new TreeMap<>(Ancestor.ORDER);
    for (Resolution resolution : resolutions) {
      for (Ancestor ancestor : resolution.ancestors()) {
        Verdict verdict = verdicts.computeIfAbsent(ancestor, a -> new Verdict());
        if (resolution.reason() != null) {
          // Refused under this ancestor once any target there is refused (as Envoy Gateway).
          if (verdict.reason == null) {
            verdict.reason = resolution.reason();
            verdict.message = resolution.message();
          }
        } else if (invalid == null) {
          verdict.overrides.add(resolution.target(), policyKey, claims, targets);
        }
      }
    }
    long generation = SnapshotIndex.generation(policy);
    List<PolicyAncestorStatus> entries = new ArrayList<>();
    verdicts.forEach((ancestor, verdict) -> {
      String reason = invalid != null ? invalid.reason : verdict.reason;
      String message = invalid != null ? invalid.getMessage() : verdict.message;
      boolean accepted = reason == null;
      List<Condition> conditions = new ArrayList<>();
      conditions.add(Conditions.of(Conditions.ACCEPTED, accepted,
          accepted ? Conditions.REASON_ACCEPTED : reason,
          accepted ? "Policy has been accepted." : message, generation));
      String overridden = verdict.overrides.message();
      if (accepted && overridden != null) {
        conditions.add(Conditions.of(OVERRIDDEN, true, REASON_OVERRIDDEN, overridden, generation));
      }
      entries.add(new PolicyAncestorStatusBuilder()
          .withAncestorRef(PolicyTargets.ancestorRef(ancestor))
          .withControllerName(controllerName)
          .withConditions(conditions)
          .build());
    });
    return new PolicyStatusBuilder().withAncestors(entries).build();
  }

  /**
   * What displaces one policy under one ancestor: listeners and routes for a Gateway or
   * listener target, rules for a route target. Envoy Gateway's message wording.
   */
  private static final class Overrides {
    final Set<String> listeners = new TreeSet<>();
    final Set<String> routes = new TreeSet<>();
    final Set<String> rules = new TreeSet<>();

    void add(Target target, ObjectKey policy, Map<String, Attached> claims,
        PolicyTargets targets) {
      switch (target.level()) {
        case GATEWAY -> {
          Map<String, Set<ObjectKey>> byListener = targets.routesOn(target.object());
          for (Map.Entry<String, Set<ObjectKey>> entry : byListener.entrySet()) {
            if (other(claims.get(Target.claimKey(Level.LISTENER, target.object(), entry.getKey())),
                policy)) {
              listeners.add(entry.getKey());
            }
            addRoutes(entry.getValue(), policy, claims, targets);
          }
        }
        case LISTENER -> addRoutes(targets.routesOn(target.object())
            .getOrDefault(target.section(), Set.of()), policy, claims, targets);
        case ROUTE -> {
          List<String> ruleNames = targets.ruleNames(target.object());
          for (int i = 0; i < ruleNames.size(); i++) {
            if (other(claims.get(Target.claimKey(Level.RULE, target.object(), String.valueOf(i))),
                policy)) {
              rules.add(ruleNames.get(i));
            }
          }
        }
        case RULE -> {
          // Nothing is more specific than a rule.
        }
      }
    }

    private void addRoutes(Set<ObjectKey> keys, ObjectKey policy, Map<String, Attached> claims,
        PolicyTargets targets) {
      for (ObjectKey route : keys) {
        boolean overridden = other(claims.get(Target.claimKey(Level.ROUTE, route, null)), policy);
        int rules = targets.ruleNames(route).size();
        for (int i = 0; i < rules && !overridden; i++) {
          overridden = other(claims.get(Target.claimKey(Level.RULE, route, String.valueOf(i))),
              policy);
        }
        if (overridden) {
          routes.add(route.namespace() + "/" + route.name());
        }
      }
    }

    private static boolean other(Attached holder, ObjectKey policy) {
      return holder != null && !holder.policy().equals(policy);
    }

    String message() {
      if (!rules.isEmpty() && listeners.isEmpty() && routes.isEmpty()) {
        return "This policy is being overridden by other backendTrafficPolicy for these route "
            + "rules: " + list(rules);
      }
      List<String> parts = new ArrayList<>();
      if (!rules.isEmpty()) {
        parts.add("these route rules: " + list(rules));
      }
      if (!listeners.isEmpty()) {
        parts.add("these listeners: " + list(listeners));
      }
      if (!routes.isEmpty()) {
        parts.add("these routes: " + list(routes));
      }
      return parts.isEmpty() ? null
          : "This policy is being overridden by other backendTrafficPolicies for "
              + String.join(" and ", parts);
    }

    /** Go's %v of a string slice: [a b]. */
    private static String list(Set<String> values) {
      return "[" + String.join(" ", values) + "]";
    }
  }
}
