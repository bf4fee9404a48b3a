package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatusBuilder;
import io.portico.ir.UnenforcedPolicy;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;
import io.portico.translate.PolicyTargets.Ancestor;
import io.portico.translate.PolicyTargets.Resolution;
import io.portico.translate.PolicyTargets.Target;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reports the gateway.envoyproxy.io policies Portico does not implement yet (SecurityPolicy,
 * ClientTrafficPolicy, EnvoyExtensionPolicy, EnvoyPatchPolicy) as not accepted, and makes
 * SecurityPolicy fail closed: nothing fails open.
 *
 * <p>A SecurityPolicy (basic auth, API keys, JWT, OIDC, IP allow-lists, CORS, external
 * authorization) is a promise that some requests are refused. Serving its routes without it would
 * let everyone in, so every rule it targets (a Gateway: all its routes; a listener: the routes
 * attached there; a ListenerSet or one of its listeners: the routes attached through it; an
 * HTTPRoute: all its rules; a named rule) is marked in the IR with an
 * {@link UnenforcedPolicy} and answered 500, as Envoy Gateway does for a route whose
 * SecurityPolicy it cannot apply. The other kinds change how requests are handled, not who may
 * make them: they only get their status.
 *
 * <p>Targets are resolved as for BackendTrafficPolicy ({@link PolicyTargets}); status has one
 * ancestor entry per resolved target's ancestor with {@code Accepted=False}: reason
 * {@code Invalid} and a message saying Portico does not implement the kind, or the target's own
 * refusal ({@code TargetNotFound} ...).
 */
final class UnimplementedPolicyPhase {

  static final String SECURITY_POLICY = "SecurityPolicy";

  /** Which rules fail closed, by the most specific target that holds a SecurityPolicy. */
  static final class FailClosed {

    static final FailClosed NONE = new FailClosed(Map.of());

    private final Map<String, UnenforcedPolicy> claims;

    FailClosed(Map<String, UnenforcedPolicy> claims) {
      this.claims = claims;
    }

    /**
     * Returns the SecurityPolicy one rule of {@code route} is subject to as attached to
     * {@code listener} of {@code gateway}, or null when none targets it at any level. For a
     * listener a ListenerSet contributed, {@code listenerSet} names it and {@code listener} is
     * its name there (a SecurityPolicy on that ListenerSet, or on that listener of it, covers
     * it; one on a Gateway listener of the same name does not); for the Gateway's own, null.
     */
    UnenforcedPolicy of(ObjectKey gateway, ObjectKey listenerSet, String listener, ObjectKey route,
        int ruleIndex) {
      if (claims.isEmpty()) {
        return null;
      }
      return Target.mostSpecific(claims, gateway, listenerSet, listener, route, ruleIndex);
    }
  }

  /**
   * @param failClosed the rules SecurityPolicies target
   * @param status the status of every policy of an unimplemented kind
   */
  record Result(FailClosed failClosed, Map<ObjectKey, PolicyStatus> status) {
  }

  private UnimplementedPolicyPhase() {
  }

  /**
   * @param policies the policies of unimplemented kinds, oldest first
   * @param routes every HTTPRoute and GRPCRoute of the snapshot
   * @param routeParents the status parents of every such route with a Portico parent
   * @param gatewayStates Portico's Gateways, with the route entries attached to each listener
   * @param allGateways every Gateway of the snapshot
   */
  static Result process(List<GenericKubernetesResource> policies, PolicyTargets targets,
      String controllerName) {
    if (policies.isEmpty()) {
      return new Result(FailClosed.NONE, Map.of());
    }
    Map<String, UnenforcedPolicy> claims = new HashMap<>();
    Map<ObjectKey, PolicyStatus> status = new TreeMap<>();
    for (GenericKubernetesResource policy : policies) {
      ObjectKey key = ObjectKey.of(policy);
      String kind = policy.getKind();
      List<Resolution> resolutions;
      try {
        resolutions = targets.resolve(policy);
      } catch (InvalidPolicy e) {
        // Targets that cannot be read name no ancestor to report under (as for
        // BackendTrafficPolicy); the CRD schema refuses such objects in a cluster.
        resolutions = List.of();
      }
      UnenforcedPolicy unenforced = new UnenforcedPolicy(kind, key.namespace() + "/" + key.name());
      // Under each ancestor: the first refusal of a target there (TargetNotFound ...), else
      // "not implemented".
      Map<Ancestor, Resolution> refusals = new TreeMap<>(Ancestor.ORDER);
      for (Resolution resolution : resolutions) {
        if (resolution.target() != null && kind.equals(SECURITY_POLICY)) {
          claims.putIfAbsent(resolution.target().claimKey(), unenforced);
        }
        for (Ancestor ancestor : resolution.ancestors()) {
          Resolution first = refusals.get(ancestor);
          if (first == null || first.reason() == null && resolution.reason() != null) {
            refusals.put(ancestor, resolution);
          }
        }
      }
      long generation = SnapshotIndex.generation(policy);
      List<PolicyAncestorStatus> entries = new ArrayList<>();
      refusals.forEach((ancestor, resolution) -> {
        boolean refused = resolution.reason() != null;
        entries.add(entry(ancestor, controllerName, Conditions.of(Conditions.ACCEPTED, false,
            refused ? resolution.reason() : Conditions.REASON_INVALID,
            refused ? resolution.message() : notImplemented(kind), generation)));
      });
      status.put(key, new PolicyStatusBuilder().withAncestors(entries).build());
    }
    return new Result(new FailClosed(Map.copyOf(claims)), status);
  }

  /** The status message of a policy of an unimplemented kind. */
  static String notImplemented(String kind) {
    if (kind.equals(SECURITY_POLICY)) {
      return "Portico does not implement SecurityPolicy yet: requests to the routes it targets "
          + "are answered 500 (x-portico-failure: security_policy_not_enforced), and "
          + "connections to its TLS, TCP and UDP routes closed, rather than served without the "
          + "protection it asks for";
    }
    return "Portico does not implement " + kind + " yet: it has no effect";
  }

  private static PolicyAncestorStatus entry(Ancestor ancestor, String controllerName,
      Condition condition) {
    return new PolicyAncestorStatusBuilder()
        .withAncestorRef(PolicyTargets.ancestorRef(ancestor))
        .withControllerName(controllerName)
        .withConditions(condition)
        .build();
  }
}
