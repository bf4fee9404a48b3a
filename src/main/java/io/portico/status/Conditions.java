package io.portico.status;

import io.fabric8.kubernetes.api.model.Condition;

import java.util.Map;

/**
 * Builds Gateway API status conditions. Types and reasons are the spec's own names
 * (gateway.networking.k8s.io/v1 {@code *ConditionType} and {@code *ConditionReason}).
 */
public final class Conditions {

  /** Returns whether {@code conditions} hold one of {@code type} with status True. */
  public static boolean isTrue(java.util.List<Condition> conditions, String type) {
    return conditions != null && conditions.stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  // Condition types.
  public static final String ACCEPTED = "Accepted";
  public static final String PROGRAMMED = "Programmed";
  public static final String RESOLVED_REFS = "ResolvedRefs";
  public static final String CONFLICTED = "Conflicted";
  public static final String PARTIALLY_INVALID = "PartiallyInvalid";
  /**
   * Envoy Gateway's policy condition (True only): the policy is accepted, but some fields it
   * sets are not applied (reasons in TrafficPolicyPhase).
   */
  public static final String WARNING = "Warning";

  // Reasons shared by several types.
  public static final String REASON_ACCEPTED = "Accepted";
  public static final String REASON_PROGRAMMED = "Programmed";
  public static final String REASON_RESOLVED_REFS = "ResolvedRefs";
  public static final String REASON_INVALID = "Invalid";

  // Gateway reasons.
  public static final String REASON_LISTENERS_NOT_VALID = "ListenersNotValid";
  public static final String REASON_LISTENERS_NOT_RESOLVED = "ListenersNotResolved";

  // Listener reasons.
  public static final String REASON_PORT_UNAVAILABLE = "PortUnavailable";
  public static final String REASON_UNSUPPORTED_PROTOCOL = "UnsupportedProtocol";
  public static final String REASON_HOSTNAME_CONFLICT = "HostnameConflict";
  public static final String REASON_PROTOCOL_CONFLICT = "ProtocolConflict";
  public static final String REASON_NO_CONFLICTS = "NoConflicts";
  public static final String REASON_INVALID_ROUTE_KINDS = "InvalidRouteKinds";
  public static final String REASON_INVALID_CERTIFICATE_REF = "InvalidCertificateRef";

  // Route reasons.
  public static final String REASON_NOT_ALLOWED_BY_LISTENERS = "NotAllowedByListeners";
  public static final String REASON_NO_MATCHING_LISTENER_HOSTNAME = "NoMatchingListenerHostname";
  public static final String REASON_NO_MATCHING_PARENT = "NoMatchingParent";
  public static final String REASON_UNSUPPORTED_VALUE = "UnsupportedValue";
  public static final String REASON_REF_NOT_PERMITTED = "RefNotPermitted";
  public static final String REASON_INVALID_KIND = "InvalidKind";
  public static final String REASON_BACKEND_NOT_FOUND = "BackendNotFound";
  public static final String REASON_INCOMPATIBLE_FILTERS = "IncompatibleFilters";

  /**
   * The extra-fields map of the status objects Portico builds. Every fabric8 model object is
   * made with a map of its own for fields its class does not know, and those built for a route's
   * status (its conditions, parent status and parentRef echo) live as long as the translation
   * that made them: at 10k routes, ~50k empty maps, ~2.8 MB. Nothing adds extra fields to them.
   */
  public static final Map<String, Object> NO_EXTRA_FIELDS = Map.of();

  private Conditions() {
  }

  /** Returns a condition with the given values and no transition time (the writer sets it). */
  public static Condition of(String type, boolean status, String reason, String message,
      Long observedGeneration) {
    // Set field by field, not through ConditionBuilder: a route gets three conditions per
    // parent at every translation, and at 10k routes the builders' copies were a large share of
    // what translation allocates (async-profiler).
    Condition condition = new Condition();
    condition.setType(type);
    condition.setStatus(status ? "True" : "False");
    condition.setReason(reason);
    condition.setMessage(message);
    condition.setObservedGeneration(observedGeneration);
    condition.setAdditionalProperties(NO_EXTRA_FIELDS);
    return condition;
  }
}
