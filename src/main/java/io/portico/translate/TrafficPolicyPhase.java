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
 * {@link TrafficPolicySpec}) to Gateways, listeners, ListenerSets (or one of their listeners),
 * routes and named route rules, and reports their status the way Envoy Gateway does.
 *
 * <p>Targets: {@code targetRef}, {@code targetRefs} (Gateway, optionally with a listener as
 * {@code sectionName}; HTTPRoute, optionally with a named rule as {@code sectionName}) and
 * {@code targetSelectors} (Gateways or HTTPRoutes by labels), all in the policy's own namespace.
 * One target (a Gateway, a listener, a route, a rule) holds one policy: the oldest (then by
 * namespace/name) wins and a later one gets {@code Accepted=False Conflicted} on that target's
 * ancestors. A rule then gets the policy of the most specific level that has one: route rule,
 * route, listener, Gateway; or, on a listener a ListenerSet contributes, route rule, route, that
 * listener of the ListenerSet, the ListenerSet, Gateway ({@link Attachments#effective}). A policy displaced that way for some
 * routes stays accepted and also reports {@code Overridden=True} naming them.
 *
 * <p>Ancestors: the Gateway (with the listener as sectionName) for Gateway targets; for route
 * targets every Portico Gateway that accepted the route, with the sectionName of the route's
 * parentRef (the ListenerSet for a route attached through one); the ListenerSet (with the
 * listener as sectionName) for ListenerSet targets; the target itself when there is none
 * (missing or unattached target).
 *
 * <p>Fields not applied are never dropped in silence: under each ancestor where the policy is
 * accepted, a {@code Warning} condition names the fields Portico does not implement
 * ({@link UnimplementedFields}, reason {@code Unsupported}) and those the stream routes it
 * governs do not take ({@link StreamPolicyScope}, reason {@code NotApplicable}). A policy of
 * which nothing set is implemented is refused ({@code Accepted=False Invalid}).
 */
final class TrafficPolicyPhase {

  static final String REASON_CONFLICTED = "Conflicted";
  static final String OVERRIDDEN = "Overridden";
  static final String REASON_OVERRIDDEN = "Overridden";
  /** Fields Portico implements, that a stream route does not take. */
  static final String REASON_NOT_APPLICABLE = "NotApplicable";
  /**
   * Fields Portico does not implement at all ({@link UnimplementedFields}): not the same as
   * {@link #REASON_NOT_APPLICABLE}, which says the field has no meaning for that route, while
   * this one says it would have one and Portico lacks it (and, for a rate limit, that a
   * protection is not enforced).
   */
  static final String REASON_UNSUPPORTED = "Unsupported";
  /** What a stream route takes of a policy, for status messages (see StreamPolicyScope). */
  static final String STREAM_FIELDS = "loadBalancer (not hashing on headers, cookies or query"
      + " parameters, no slowStart), sessionAffinity SourceIP, and on TLS and TCP routes"
      + " healthCheck, circuitBreaker.maxConnections and timeout.tcp.connectTimeout";

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
     * {@code gateway} (see {@link Target#mostSpecific}); null when none.
     */
    TrafficPolicy effective(ObjectKey gateway, ObjectKey listenerSet, String listener,
        ObjectKey route, int ruleIndex) {
      Attached attached = Target.mostSpecific(claims, gateway, listenerSet, listener, route,
          ruleIndex);
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
    // Each policy's spec and its unimplemented fields, read once for its targets and status.
    Map<ObjectKey, Map<String, Object>> specs = new HashMap<>();
    Map<ObjectKey, UnimplementedFields.Report> reports = new HashMap<>();
    for (GenericKubernetesResource policy : policies) {
      ObjectKey policyKey = ObjectKey.of(policy);
      List<Resolution> resolutions = new ArrayList<>();
      try {
        resolutions.addAll(targets.resolve(policy));
      } catch (InvalidPolicy e) {
        invalid.put(policyKey, e);
      }
      Map<String, Object> spec = PolicyFields.map(policy.getAdditionalProperties().get("spec"));
      UnimplementedFields.Report unimplemented = UnimplementedFields.of(spec);
      specs.put(policyKey, spec);
      reports.put(policyKey, unimplemented);
      TrafficPolicy settings = null;
      if (!invalid.containsKey(policyKey)) {
        try {
          settings = TrafficPolicySpec.parse(policy);
          if (!unimplemented.none() && !unimplemented.appliesAnything()) {
            // Nothing it sets is implemented: as for a stream route none of whose fields
            // applies, the policy is refused and its targets keep what they would have without.
            throw InvalidPolicy.invalid(unimplemented.message());
          }
        } catch (InvalidPolicy e) {
          invalid.put(policyKey, e);
          settings = null;
        }
      }
      List<Resolution> outcome = new ArrayList<>();
      for (Resolution resolution : resolutions) {
        if (settings == null || resolution.target() == null || resolution.reason() != null) {
          outcome.add(resolution); // refused: it gives its target nothing
          continue;
        }
        String streamKind = streamRouteKind(resolution.target());
        StreamPolicyScope.Scope scope = streamKind == null ? null
            : StreamPolicyScope.of(spec, streamKind);
        if (scope != null && !scope.appliesAnything()) {
          outcome.add(new Resolution(null, resolution.ancestors(), Conditions.REASON_INVALID,
              resolution.target().describe() + ": none of the fields this policy sets applies to"
                  + " a " + streamKind + " (" + String.join(", ",
                  scope.inapplicable()) + "); a stream route"
                  + " takes " + STREAM_FIELDS));
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
      status.put(policyKey, status(policy, specs.get(policyKey), reports.get(policyKey),
          resolved.get(policyKey), invalid.get(policyKey), claims));
    }
    return new Result(new Attachments(Map.copyOf(claims)), status);
  }

  /** What one policy gets under one ancestor. */
  private static final class Verdict {
    /** The first refusal under this ancestor (null while accepted) and its message. */
    String reason;
    String message;
    final Overrides overrides = new Overrides();
    /** Per stream route kind under this ancestor, the fields it does not take. */
    final Set<String> notApplicable = new java.util.TreeSet<>();
  }

  /**
   * Adds, for the TLS/TCP/UDP routes {@code target} covers and this policy governs (not those
   * a more specific policy holds), the fields of {@code spec} they do not take: "spec.retry does
   * not apply to TCPRoute infra/db, UDPRoute infra/dns".
   */
  private void streamWarnings(Target target, Map<String, Object> spec, ObjectKey policy,
      Map<String, Attached> claims, List<String> unimplemented, Set<String> warnings) {
    List<ObjectKey> routes = new ArrayList<>();
    switch (target.level()) {
      case RULE, ROUTE -> {
        if (streamRouteKind(target) != null) {
          routes.add(target.object());
        }
      }
      case LISTENER_SET, LISTENER_SET_LISTENER -> {
        for (var onListener : targets.routesOnListenerSet(target.object()).entrySet()) {
          String listener = onListener.getKey();
          boolean covered = target.level() == Level.LISTENER_SET_LISTENER
              ? listener.equals(target.section())
              : !Overrides.other(claims.get(Target.claimKey(Level.LISTENER_SET_LISTENER,
                  target.object(), listener)), policy);
          for (ObjectKey route : covered ? onListener.getValue() : Set.<ObjectKey>of()) {
            if (PolicyTargets.STREAM_ROUTE_KINDS.contains(route.kind())
                && !Overrides.other(claims.get(Target.claimKey(Level.ROUTE, route, null)), policy)
                && !Overrides.other(claims.get(Target.claimKey(Level.RULE, route, "0")),
                    policy)) {
              routes.add(route);
            }
          }
        }
      }
      case GATEWAY, LISTENER -> {
        for (var onListener : targets.routesOn(target.object()).entrySet()) {
          String listener = onListener.getKey();
          boolean covered = target.level() == Level.LISTENER ? listener.equals(target.section())
              : !Overrides.other(claims.get(Target.claimKey(Level.LISTENER, target.object(),
                  listener)), policy);
          for (ObjectKey route : covered ? onListener.getValue() : Set.<ObjectKey>of()) {
            if (PolicyTargets.STREAM_ROUTE_KINDS.contains(route.kind())
                && !Overrides.other(claims.get(Target.claimKey(Level.ROUTE, route, null)), policy)
                && !Overrides.other(claims.get(Target.claimKey(Level.RULE, route, "0")),
                    policy)) {
              routes.add(route);
            }
          }
        }
      }
    }
    Map<String, Set<String>> byFields = new TreeMap<>();
    for (ObjectKey route : routes) {
      List<String> fields = new ArrayList<>(StreamPolicyScope.of(spec, route.kind())
          .inapplicable());
      fields.removeAll(unimplemented); // Reported once, as Unsupported.
      if (!fields.isEmpty()) {
        byFields.computeIfAbsent(String.join(", ", fields), f -> new TreeSet<>())
            .add(route.kind() + " " + route.namespace() + "/" + route.name());
      }
    }
    byFields.forEach((fields, names) -> warnings.add(fields
        + (fields.contains(",") ? " do" : " does") + " not apply to " + String.join(", ", names)));
  }

  /** Returns the kind of a TLSRoute, TCPRoute or UDPRoute target (route or rule), else null. */
  private static String streamRouteKind(Target target) {
    boolean route = target.level() == Level.ROUTE || target.level() == Level.RULE;
    return route && PolicyTargets.STREAM_ROUTE_KINDS.contains(target.object().kind())
        ? target.object().kind() : null;
  }

  private PolicyStatus status(GenericKubernetesResource policy, Map<String, Object> spec,
      UnimplementedFields.Report unimplemented, List<Resolution> resolutions,
      InvalidPolicy invalid, Map<String, Attached> claims) {
    ObjectKey policyKey = ObjectKey.of(policy);
    Map<Ancestor, Verdict> verdicts = new TreeMap<>(Ancestor.ORDER);
    for (Resolution resolution : resolutions) {
      for (Ancestor ancestor : resolution.ancestors()) {
        Verdict verdict = verdicts.computeIfAbsent(ancestor, a -> new Verdict());
        if (resolution.reason() == null && resolution.target() != null) {
          streamWarnings(resolution.target(), spec, policyKey, claims, unimplemented.paths(),
              verdict.notApplicable);
        }
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
      if (accepted && !(unimplemented.none() && verdict.notApplicable.isEmpty())) {
        // Envoy Gateway's Warning: fields of an accepted policy not applied under this ancestor,
        // those Portico does not implement (Unsupported) or those a TLS, TCP or UDP route does
        // not take (NotApplicable). One per ancestor: when both apply, the message holds both
        // and the reason is Unsupported, the one that needs acting on.
        List<String> warnings = new ArrayList<>();
        if (!unimplemented.none()) {
          warnings.add(unimplemented.message());
        }
        if (!verdict.notApplicable.isEmpty()) {
          warnings.add(String.join("; ", verdict.notApplicable) + ": not applied there (a stream"
              + " route takes " + STREAM_FIELDS + ")");
        }
        conditions.add(Conditions.of(Conditions.WARNING, true,
            unimplemented.none() ? REASON_NOT_APPLICABLE : REASON_UNSUPPORTED,
            String.join("; ", warnings), generation));
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
          // The listeners its ListenerSets contribute: a ListenerSet's policy is more specific.
          for (ObjectKey listenerSet : targets.listenerSetsOf(target.object())) {
            boolean setClaimed = other(claims.get(Target.claimKey(Level.LISTENER_SET,
                listenerSet, null)), policy);
            addListenerSet(listenerSet, setClaimed, policy, claims, targets);
          }
        }
        case LISTENER -> addRoutes(targets.routesOn(target.object())
            .getOrDefault(target.section(), Set.of()), policy, claims, targets);
        case LISTENER_SET -> addListenerSet(target.object(), false, policy, claims, targets);
        case LISTENER_SET_LISTENER -> addRoutes(targets.routesOnListenerSet(target.object())
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

    /**
     * Adds the listeners of {@code listenerSet} (as namespace/listenerset/listener) that a more
     * specific policy holds (all of them when {@code claimed}: a policy on the ListenerSet), and
     * the routes on the others that hold their own.
     */
    private void addListenerSet(ObjectKey listenerSet, boolean claimed, ObjectKey policy,
        Map<String, Attached> claims, PolicyTargets targets) {
      for (var entry : targets.routesOnListenerSet(listenerSet).entrySet()) {
        if (claimed || other(claims.get(Target.claimKey(Level.LISTENER_SET_LISTENER, listenerSet,
            entry.getKey())), policy)) {
          listeners.add(listenerSet.namespace() + "/" + listenerSet.name() + "/"
              + entry.getKey());
        } else {
          addRoutes(entry.getValue(), policy, claims, targets);
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
