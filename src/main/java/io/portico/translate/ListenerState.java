package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.portico.ir.SourceRef;
import io.portico.ir.ClientValidation;
import io.portico.ir.TlsCertificate;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.List;

/**
 * What one translation learns about one Gateway listener: whether it is valid, which route
 * kinds it takes, and the route matches attached to it. Mutable, and confined to the translation.
 *
 * <p>A listener a ListenerSet contributes to its Gateway is one of these too, with
 * {@link #listenerSet} set: it is validated, conflict-checked and served as the Gateway's own
 * (GEP-1713), but routes reach it only through the ListenerSet, and references (allowedRoutes
 * {@code Same}, certificateRefs) are relative to the ListenerSet's namespace.
 */
final class ListenerState {

  final Gateway gateway;
  /** The ListenerSet that contributed this listener, or null for one of the Gateway's own. */
  final ListenerSet listenerSet;
  final Listener spec;
  final SourceRef source;
  final String irName;

  boolean accepted = true;
  String acceptedReason;
  String acceptedMessage;

  /** Conflicted reason, or null when the listener is distinct from its siblings. */
  String conflictReason;
  String conflictMessage;

  /**
   * Why the listener's TLS hostname overlaps another's on its port (OverlappingTLSConfig=True);
   * null when it does not.
   */
  String overlapMessage;

  String unresolvedReason;
  String unresolvedMessage;

  /** The certificate of an HTTPS (or TLS Terminate) listener, once resolved. */
  TlsCertificate tls;
  /** The client certificate validation of an HTTPS listener's port, or null. */
  ClientValidation clientValidation;
  /** Set when the port's client certificate validation has no usable CA. */
  boolean frontendValidationFailed;
  /** Set when an HTTPS listener's certificate cannot be used: it is then not served. */
  boolean certificateInvalid;

  /**
   * The tls.mode of a TLS listener once validated (Passthrough or Terminate); null for other
   * protocols.
   */
  String tlsMode;

  List<RouteGroupKind> supportedKinds = List.of();
  /**
   * This listener's position among all the translation's Gateways' listeners, served or not
   * (set by {@link HttpRoutePhase}): how a remembered attachment ({@link AttachedRoutes}) and a
   * listener's assembled hosts ({@link AssembledHosts}) recognise it from one translation to
   * the next.
   */
  int position = -1;
  int attachedRoutes;
  final List<RouteEntry> routes = new ArrayList<>();
  /** The TLSRoutes, TCPRoutes or UDPRoutes attached to a stream listener, oldest first. */
  final List<io.portico.ir.StreamRoute> streamRoutes = new ArrayList<>();

  ListenerState(Gateway gateway, Listener spec) {
    this(gateway, null, spec);
  }

  ListenerState(Gateway gateway, ListenerSet listenerSet, Listener spec) {
    this.gateway = gateway;
    this.listenerSet = listenerSet;
    this.spec = spec;
    String ownerKind = ownerKind();
    this.source = new SourceRef(ownerKind, ownerNamespace(), ownerName(),
        "listener/" + spec.getName());
    this.irName = ownerKind.toLowerCase(java.util.Locale.ROOT) + "/" + ownerNamespace() + "/"
        + ownerName() + "/listener/" + spec.getName();
  }

  /** The kind of the object that declares the listener: Gateway or ListenerSet. */
  String ownerKind() {
    return listenerSet == null ? "Gateway" : "ListenerSet";
  }

  /** The namespace of the object that declares the listener. */
  String ownerNamespace() {
    return (listenerSet == null ? gateway : listenerSet).getMetadata().getNamespace();
  }

  String ownerName() {
    return (listenerSet == null ? gateway : listenerSet).getMetadata().getName();
  }

  String name() {
    return spec.getName();
  }

  int port() {
    return spec.getPort() == null ? 0 : spec.getPort();
  }

  /** The listener's hostname, or null when it takes any host. */
  String hostname() {
    String hostname = spec.getHostname();
    return hostname == null || hostname.isEmpty() ? null : hostname;
  }

  void reject(String reason, String message) {
    if (accepted) {
      accepted = false;
      acceptedReason = reason;
      acceptedMessage = message;
    }
  }

  /** Records why the listener's certificate cannot be used (ResolvedRefs=False). */
  void invalidCertificate(String reason, String message) {
    certificateInvalid = true;
    unresolvedReason = reason;
    unresolvedMessage = message;
  }

  /**
   * Whether the proxy serves this listener: accepted, distinct, taking some route kind, and
   * with a usable certificate when it is HTTPS.
   */
  boolean serving() {
    return accepted && conflictReason == null && !supportedKinds.isEmpty() && !certificateInvalid;
  }

  /**
   * The reason of {@code Programmed=False}: a ListenerSet's listener carries its conflict or port
   * reason there too (the ListenerSet conformance tests expect it); a Gateway's own, Invalid.
   */
  String notProgrammedReason() {
    if (listenerSet != null && conflictReason != null) {
      return conflictReason;
    }
    if (listenerSet != null && Conditions.REASON_PORT_UNAVAILABLE.equals(acceptedReason)) {
      return acceptedReason;
    }
    return Conditions.REASON_INVALID;
  }

  boolean supportsKind(String kind) {
    return supportedKinds.stream().anyMatch(k -> k.getKind().equals(kind));
  }

  String describe() {
    return "listener '" + spec.getName() + "' of " + ownerKind() + " " + ownerNamespace() + "/"
        + ownerName();
  }

  /**
   * This listener as a message about {@code viewer} names it: a sibling (declared by the same
   * Gateway or ListenerSet) by its name, one of another object with its owner.
   */
  String describeTo(ListenerState viewer) {
    return listenerSet == viewer.listenerSet ? "listener '" + name() + "'" : describe();
  }
}
