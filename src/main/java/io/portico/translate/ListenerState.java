package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.portico.ir.SourceRef;
import io.portico.ir.ClientValidation;
import io.portico.ir.TlsCertificate;

import java.util.ArrayList;
import java.util.List;

/**
 * What one translation learns about one Gateway listener: whether it is valid, which route
 * kinds it takes, and the route matches attached to it. Mutable, and confined to the translation.
 */
final class ListenerState {

  final Gateway gateway;
  final Listener spec;
  final SourceRef source;
  final String irName;

  boolean accepted = true;
  String acceptedReason;
  String acceptedMessage;

  /** Conflicted reason, or null when the listener is distinct from its siblings. */
  String conflictReason;
  String conflictMessage;

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
  int attachedRoutes;
  final List<RouteEntry> routes = new ArrayList<>();
  /** The TLSRoutes, TCPRoutes or UDPRoutes attached to a stream listener, oldest first. */
  final List<io.portico.ir.StreamRoute> streamRoutes = new ArrayList<>();

  ListenerState(Gateway gateway, Listener spec) {
    this.gateway = gateway;
    this.spec = spec;
    this.source = new SourceRef("Gateway", gateway.getMetadata().getNamespace(),
        gateway.getMetadata().getName(), "listener/" + spec.getName());
    this.irName = "gateway/" + gateway.getMetadata().getNamespace() + "/"
        + gateway.getMetadata().getName() + "/listener/" + spec.getName();
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

  boolean supportsKind(String kind) {
    return supportedKinds.stream().anyMatch(k -> k.getKind().equals(kind));
  }

  String describe() {
    return "listener '" + spec.getName() + "' of Gateway " + gateway.getMetadata().getNamespace()
        + "/" + gateway.getMetadata().getName();
  }
}
