package io.portico.resource;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Checks the rules the API server would enforce on the objects Portico reads. */
final class ObjectValidation {

  private static final String LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final Pattern DNS_1123_LABEL = Pattern.compile(LABEL);
  private static final Pattern DNS_1123_SUBDOMAIN = Pattern.compile(LABEL + "(\\." + LABEL + ")*");

  private ObjectValidation() {}

  /** Returns why {@code name} is not a valid object name, or null if it is. */
  static String nameProblem(String name) {
    if (name.length() > 253 || !DNS_1123_SUBDOMAIN.matcher(name).matches()) {
      return "metadata.name \"" + name + "\" is not a DNS-1123 subdomain (lower case letters,"
          + " digits, '-' and '.', starting and ending with a letter or digit, at most 253"
          + " characters)";
    }
    return null;
  }

  /** Returns why {@code namespace} is not a valid namespace name, or null if it is. */
  static String namespaceProblem(String namespace) {
    if (namespace.length() > 63 || !DNS_1123_LABEL.matcher(namespace).matches()) {
      return "metadata.namespace \"" + namespace + "\" is not a DNS-1123 label (lower case"
          + " letters, digits and '-', starting and ending with a letter or digit, at most 63"
          + " characters)";
    }
    return null;
  }

  /** Returns what is wrong with the object's content; empty when nothing is. */
  static List<String> problems(HasMetadata object) {
    if (object instanceof Gateway gateway) {
      List<String> problems = gatewayProblems(gateway);
      problems.addAll(GatewayApiSchema.problems(gateway));
      return problems;
    }
    if (object instanceof HTTPRoute route) {
      return GatewayApiSchema.problems(route);
    }
    if (object instanceof ListenerSet listenerSet) {
      List<String> problems = listenerSetProblems(listenerSet);
      problems.addAll(GatewayApiSchema.problems(listenerSet));
      return problems;
    }
    if (object instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute route) {
      return GrpcRouteSchema.problems(route);
    }
    if (object instanceof GenericKubernetesResource resource
        && "BackendTrafficPolicy".equals(resource.getKind())) {
      return backendTrafficPolicyProblems(resource);
    }
    return List.of();
  }

  /** Sections of a BackendTrafficPolicy spec that Envoy Gateway's CRD types as objects. */
  private static final List<String> POLICY_OBJECT_FIELDS = List.of("targetRef", "loadBalancer",
      "sessionAffinity", "healthCheck", "retry", "timeout", "circuitBreaker", "http2",
      "connection");

  /**
   * The shape Envoy Gateway's CRD schema enforces before anything reads a BackendTrafficPolicy:
   * a policy whose targets cannot even be read would otherwise get no status ancestor, and its
   * mistake would show nowhere. Field values are checked later, with the policy's status.
   */
  private static List<String> backendTrafficPolicyProblems(GenericKubernetesResource policy) {
    List<String> problems = new ArrayList<>();
    Object spec = policy.getAdditionalProperties().get("spec");
    if (!(spec instanceof Map<?, ?> fields)) {
      problems.add("spec must be an object");
      return problems;
    }
    for (String field : POLICY_OBJECT_FIELDS) {
      Object value = fields.get(field);
      if (value != null && !(value instanceof Map)) {
        problems.add("spec." + field + " must be an object");
      }
    }
    for (String field : List.of("targetRefs", "targetSelectors")) {
      Object value = fields.get(field);
      if (value == null) {
        continue;
      }
      if (!(value instanceof List<?> list)) {
        problems.add("spec." + field + " must be a list");
        continue;
      }
      for (int i = 0; i < list.size(); i++) {
        if (!(list.get(i) instanceof Map)) {
          problems.add("spec." + field + "[" + i + "] must be an object");
        }
      }
    }
    boolean hasTarget = fields.get("targetRef") != null
        || fields.get("targetRefs") instanceof List<?> refs && !refs.isEmpty()
        || fields.get("targetSelectors") instanceof List<?> selectors && !selectors.isEmpty();
    if (!hasTarget && problems.isEmpty()) {
      problems.add("one of spec.targetRef, spec.targetRefs or spec.targetSelectors is required");
    }
    return problems;
  }

  private static List<String> gatewayProblems(Gateway gateway) {
    List<String> problems = new ArrayList<>();
    if (gateway.getSpec() == null || isBlank(gateway.getSpec().getGatewayClassName())) {
      problems.add("spec.gatewayClassName is required");
    }
    List<Listener> listeners = gateway.getSpec() == null ? null : gateway.getSpec().getListeners();
    listenerProblems(problems, listeners);
    return problems;
  }

  /**
   * The ListenerSet CRD's required fields: a parent Gateway, and at least one listener held to
   * the rules of a Gateway's listeners (unique names within the set, port, protocol).
   */
  private static List<String> listenerSetProblems(ListenerSet listenerSet) {
    List<String> problems = new ArrayList<>();
    var spec = listenerSet.getSpec();
    if (spec == null || spec.getParentRef() == null || isBlank(spec.getParentRef().getName())) {
      problems.add("spec.parentRef.name is required");
    }
    listenerProblems(problems, spec == null || spec.getListeners() == null ? null
        : ListenerEntries.listeners(listenerSet));
    return problems;
  }

  private static void listenerProblems(List<String> problems, List<Listener> listeners) {
    if (listeners == null || listeners.isEmpty()) {
      problems.add("spec.listeners must have at least one listener");
      return;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < listeners.size(); i++) {
      Listener listener = listeners.get(i);
      String at = "spec.listeners[" + i + "]";
      if (listener == null) {
        problems.add(at + " is empty");
        continue;
      }
      if (isBlank(listener.getName())) {
        problems.add(at + ".name is required");
      } else if (!names.add(listener.getName())) {
        problems.add(at + ".name \"" + listener.getName() + "\" is used by another listener");
      }
      if (listener.getPort() == null) {
        problems.add(at + ".port is required");
      } else if (listener.getPort() < 1 || listener.getPort() > 65535) {
        problems.add(at + ".port must be between 1 and 65535, not " + listener.getPort());
      }
      if (isBlank(listener.getProtocol())) {
        problems.add(at + ".protocol is required");
      }
    }
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
