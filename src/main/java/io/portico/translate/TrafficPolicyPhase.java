package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatusBuilder;
import io.portico.ir.LoadBalancing;
import io.portico.resource.GoDuration;
import io.portico.resource.ObjectKey;
import io.portico.status.Conditions;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads Envoy Gateway's BackendTrafficPolicy (first slice: load balancing and session affinity
 * on HTTPRoutes) in both shapes Portico accepts:
 *
 * <ul>
 *   <li>the seed's {@code sessionAffinity: {type: Cookie, cookie: {name, ttl}}} or
 *       {@code {type: SourceIP}};
 *   <li>Envoy Gateway's {@code loadBalancer: {type: RoundRobin | Random | ConsistentHash,
 *       consistentHash: {type: SourceIP | Cookie {name, ttl} | Header {name}}}}.
 * </ul>
 *
 * Targets: {@code targetRef} or {@code targetRefs} naming an HTTPRoute of the policy's
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
   * @param byRoute the load balancing each targeted route's rules get
   * @param status the status of every BackendTrafficPolicy
   */
  record Result(Map<ObjectKey, LoadBalancing> byRoute, Map<ObjectKey, PolicyStatus> status) {
  }

  /** A policy that cannot be used, with the field at fault. */
  private static final class Invalid extends Exception {
    final String reason;

    Invalid(String reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
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
    Map<ObjectKey, LoadBalancing> byRoute = new HashMap<>();
    Map<ObjectKey, PolicyStatus> status = new TreeMap<>();
    for (GenericKubernetesResource policy : policies) {
      String namespace = policy.getMetadata().getNamespace();
      String policyName = namespace + "/" + policy.getMetadata().getName();
      Map<String, Object> spec = map(policy.getAdditionalProperties().get("spec"));
      List<ObjectKey> targets = new ArrayList<>();
      String reason = null;
      String message = null;
      LoadBalancing loadBalancing = null;
      try {
        targets = targets(spec, namespace);
        loadBalancing = loadBalancing(spec, policyName);
        for (ObjectKey target : targets) {
          if (!routeByKey.containsKey(target)) {
            throw new Invalid(REASON_TARGET_NOT_FOUND,
                "HTTPRoute " + target.namespace() + "/" + target.name() + " not found");
          }
        }
        for (ObjectKey target : targets) {
          if (loadBalancing != null && byRoute.containsKey(target)) {
            throw new Invalid(REASON_CONFLICTED, "HTTPRoute " + target.namespace() + "/"
                + target.name() + " already has a BackendTrafficPolicy ("
                + byRoute.get(target).policy() + "); the oldest wins");
          }
        }
        if (loadBalancing != null) {
          for (ObjectKey target : targets) {
            byRoute.put(target, loadBalancing);
          }
        }
      } catch (Invalid e) {
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
      throws Invalid {
    List<Map<String, Object>> refs = new ArrayList<>();
    List<String> fields = new ArrayList<>();
    if (spec.get("targetRef") != null) {
      refs.add(map(spec.get("targetRef")));
      fields.add("spec.targetRef");
    }
    if (spec.get("targetRefs") instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        refs.add(map(list.get(i)));
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
      String group = string(ref.get("group"));
      String kind = string(ref.get("kind"));
      String name = string(ref.get("name"));
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

  /** Returns the policy's load balancing, or null when it sets none. */
  private static LoadBalancing loadBalancing(Map<String, Object> spec, String policy)
      throws Invalid {
    Object affinity = spec.get("sessionAffinity");
    Object balancer = spec.get("loadBalancer");
    if (affinity != null && balancer != null) {
      throw invalid("set only one of spec.sessionAffinity and spec.loadBalancer");
    }
    if (affinity != null) {
      Map<String, Object> a = map(affinity);
      String type = string(a.get("type"));
      if ("Cookie".equals(type)) {
        return cookie(map(a.get("cookie")), "spec.sessionAffinity.cookie", policy);
      }
      if ("SourceIP".equals(type)) {
        return new LoadBalancing(LoadBalancing.Type.SOURCE_IP, null, 0, policy);
      }
      throw invalid("spec.sessionAffinity.type: unknown type " + type + " (Cookie, SourceIP)");
    }
    if (balancer != null) {
      Map<String, Object> b = map(balancer);
      String type = string(b.get("type"));
      if ("RoundRobin".equals(type)) {
        return new LoadBalancing(LoadBalancing.Type.ROUND_ROBIN, null, 0, policy);
      }
      if ("Random".equals(type)) {
        return new LoadBalancing(LoadBalancing.Type.RANDOM, null, 0, policy);
      }
      if (!"ConsistentHash".equals(type)) {
        throw invalid("spec.loadBalancer.type: unknown or unsupported type " + type
            + " (RoundRobin, Random, ConsistentHash)");
      }
      Map<String, Object> hash = map(b.get("consistentHash"));
      String hashType = string(hash.get("type"));
      if ("SourceIP".equals(hashType)) {
        return new LoadBalancing(LoadBalancing.Type.SOURCE_IP, null, 0, policy);
      }
      if ("Cookie".equals(hashType)) {
        return cookie(map(hash.get("cookie")), "spec.loadBalancer.consistentHash.cookie", policy);
      }
      if ("Header".equals(hashType)) {
        String name = string(map(hash.get("header")).get("name"));
        if (name == null || name.isEmpty()) {
          throw invalid("spec.loadBalancer.consistentHash.header.name is required");
        }
        return new LoadBalancing(LoadBalancing.Type.HEADER, name.toLowerCase(), 0, policy);
      }
      throw invalid("spec.loadBalancer.consistentHash.type: unknown or unsupported type "
          + hashType + " (SourceIP, Cookie, Header)");
    }
    return null;
  }

  private static LoadBalancing cookie(Map<String, Object> cookie, String field, String policy)
      throws Invalid {
    String name = string(cookie.get("name"));
    if (name == null || name.isEmpty()) {
      throw invalid(field + ".name is required");
    }
    if (!name.matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+")) {
      throw invalid(field + ".name: " + name + " is not a valid cookie name");
    }
    long ttl = 0;
    String text = string(cookie.get("ttl"));
    if (text != null) {
      Duration duration;
      try {
        duration = GoDuration.parse(text);
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".ttl: " + text + " is not a duration");
      }
      if (duration.isNegative()) {
        throw invalid(field + ".ttl: " + text + " is negative");
      }
      ttl = duration.toSeconds();
    }
    return new LoadBalancing(LoadBalancing.Type.COOKIE, name, ttl, policy);
  }

  private static Invalid invalid(String message) {
    return new Invalid(Conditions.REASON_INVALID, message);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  private static String string(Object value) {
    return value == null ? null : value.toString();
  }
}
