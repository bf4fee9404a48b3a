package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKind;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteGroupKindBuilder;
import io.portico.resource.ListenerEntries;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Validates the listeners of every Gateway Portico serves: protocol, hostname, route kinds,
 * distinctness inside a Gateway, and ports shared between Gateways. The listeners of the
 * ListenerSets a Gateway admits are merged in after its own (GEP-1713) and held to the same
 * rules.
 */
final class ListenerPhase {

  /** Route kinds each supported listener protocol takes. */
  private static final Map<String, List<String>> ROUTE_KINDS = Map.of(
      "HTTP", List.of("HTTPRoute", "GRPCRoute"),
      "HTTPS", List.of("HTTPRoute", "GRPCRoute"),
      "TLS", List.of("TLSRoute"),
      "TCP", List.of("TCPRoute"),
      "UDP", List.of("UDPRoute"));
  /** Gateway API {@code ListenerTLSConfig.mode}; Terminate when left out. */
  static final String MODE_PASSTHROUGH = "Passthrough";
  static final String MODE_TERMINATE = "Terminate";

  private ListenerPhase() {
  }

  /**
   * Returns the listener states of {@code gateways}, which must be sorted oldest first: when two
   * Gateways use one port, the older keeps it.
   *
   * @param listenerSets the ListenerSets each Gateway admits, in listener precedence order
   */
  static List<GatewayState> process(SnapshotIndex index, List<Gateway> gateways,
      Map<Gateway, String> addresses, Map<Gateway, GatewayAddressCheck> checks,
      Map<Gateway, List<ListenerSet>> listenerSets) {
    Map<String, Gateway> portOwners = new HashMap<>();
    List<GatewayState> states = new ArrayList<>();
    for (Gateway gateway : gateways) {
      List<ListenerState> listeners = new ArrayList<>();
      List<Listener> specs = gateway.getSpec() == null || gateway.getSpec().getListeners() == null
          ? List.of() : gateway.getSpec().getListeners();
      for (Listener spec : specs) {
        listeners.add(prepare(index, new ListenerState(gateway, spec)));
      }
      markConflicts(listeners);
      // A Gateway that is not accepted takes no ListenerSet listeners: they would be served
      // while their ListenerSet reports ParentNotAccepted.
      List<ListenerSet> admitted =
          GatewayStatusPhase.accepted(gateway, checks.get(gateway), listeners)
              ? listenerSets.getOrDefault(gateway, List.of()) : List.of();
      for (ListenerSet listenerSet : admitted) {
        for (Listener spec : ListenerEntries.listeners(listenerSet)) {
          ListenerState listener = prepare(index, new ListenerState(gateway, listenerSet, spec));
          markConflictWithEarlier(listener, listeners);
          listeners.add(listener);
        }
      }
      TlsOverlap.mark(listeners);
      String address = addresses.getOrDefault(gateway, "");
      GatewayState state = new GatewayState(gateway, address, checks.get(gateway),
          List.copyOf(listeners), BackendClientCertificate.resolve(index, gateway));
      if (state.served()) {
        claimPorts(gateway, address, listeners, portOwners);
      }
      states.add(state);
    }
    return states;
  }

  /** Validates one listener and resolves its certificate and client validation. */
  private static ListenerState prepare(SnapshotIndex index, ListenerState listener) {
    validate(listener);
    if (listener.accepted && "HTTPS".equals(listener.spec.getProtocol())) {
      CertificateRefs.resolve(index, listener);
      applyFrontendValidation(index, listener);
    } else if (listener.accepted && MODE_TERMINATE.equals(listener.tlsMode)) {
      CertificateRefs.resolve(index, listener);
    }
    return listener;
  }

  private static void validate(ListenerState listener) {
    String protocol = listener.spec.getProtocol();
    if (!ROUTE_KINDS.containsKey(protocol)) {
      listener.reject(Conditions.REASON_UNSUPPORTED_PROTOCOL, listener.describe()
          + ": protocol " + protocol + " is not supported (supported: "
          + String.join(", ", new java.util.TreeSet<>(ROUTE_KINDS.keySet())) + ")");
      return;
    }
    if ("TLS".equals(protocol) && !validTlsMode(listener)) {
      return;
    }
    String hostname = listener.hostname();
    if (hostname != null && !Hostnames.isValid(hostname)) {
      listener.reject(Conditions.REASON_UNSUPPORTED_VALUE, listener.describe()
          + ": hostname '" + hostname + "' is not a valid DNS name or wildcard");
      return;
    }
    listener.supportedKinds = supportedKinds(listener);
  }

  /**
   * A TLS listener must say how TLS is handled: Passthrough relays the encrypted stream by SNI
   * name, Terminate (the default) ends TLS with the listener's certificate and relays the plain
   * stream. Any other mode is UnsupportedValue (with no supported route kinds), as the Gateway
   * API asks.
   */
  private static boolean validTlsMode(ListenerState listener) {
    if (listener.spec.getTls() == null) {
      listener.reject(Conditions.REASON_UNSUPPORTED_VALUE, listener.describe()
          + ": tls is required for protocol TLS (tls.mode Passthrough, or Terminate with"
          + " certificateRefs)");
      return false;
    }
    String mode = listener.spec.getTls().getMode() == null
        ? MODE_TERMINATE : listener.spec.getTls().getMode();
    if (MODE_PASSTHROUGH.equals(mode) || MODE_TERMINATE.equals(mode)) {
      listener.tlsMode = mode;
      return true;
    }
    listener.reject(Conditions.REASON_UNSUPPORTED_VALUE, listener.describe() + ": tls.mode "
        + mode + " is not supported (supported: Passthrough, Terminate)");
    return false;
  }

  /**
   * An HTTPS listener whose port must validate client certificates but has no usable CA is not
   * served: better refuse traffic than let unauthenticated clients through.
   */
  private static void applyFrontendValidation(SnapshotIndex index, ListenerState listener) {
    FrontendValidation.Result result =
        FrontendValidation.forPort(index, listener.gateway, listener.port());
    if (result.failed()) {
      listener.frontendValidationFailed = true;
      listener.invalidCertificate(result.failureReason(), result.failureMessage());
      listener.reject(FrontendValidation.REASON_NO_VALID_CA, listener.describe()
          + ": no valid CA certificate to validate clients with (" + result.failureMessage() + ")");
    } else {
      listener.clientValidation = result.validation();
    }
  }

  /** Resolves allowedRoutes.kinds against what the listener's protocol takes (ResolvedRefs). */
  private static List<RouteGroupKind> supportedKinds(ListenerState listener) {
    List<String> protocolKinds = ROUTE_KINDS.get(listener.spec.getProtocol());
    List<RouteGroupKind> requested = listener.spec.getAllowedRoutes() == null
        ? null : listener.spec.getAllowedRoutes().getKinds();
    List<RouteGroupKind> supported = new ArrayList<>();
    if (requested == null || requested.isEmpty()) {
      for (String kind : protocolKinds) {
        supported.add(kind(kind));
      }
      return supported;
    }
    List<String> invalid = new ArrayList<>();
    for (RouteGroupKind kind : requested) {
      String group = kind.getGroup() == null ? ReferenceGrants.GATEWAY_GROUP : kind.getGroup();
      if (group.equals(ReferenceGrants.GATEWAY_GROUP) && protocolKinds.contains(kind.getKind())) {
        if (supported.stream().noneMatch(k -> k.getKind().equals(kind.getKind()))) {
          supported.add(kind(kind.getKind()));
        }
      } else {
        invalid.add((group.isEmpty() ? "" : group + "/") + kind.getKind());
      }
    }
    if (!invalid.isEmpty()) {
      listener.unresolvedReason = Conditions.REASON_INVALID_ROUTE_KINDS;
      listener.unresolvedMessage = listener.describe() + ": allowedRoutes.kinds " + invalid
          + " cannot be served on a " + listener.spec.getProtocol() + " listener (supported: "
          + String.join(", ", protocolKinds) + ")";
    }
    return supported;
  }

  private static RouteGroupKind kind(String kind) {
    return new RouteGroupKindBuilder().withGroup(ReferenceGrants.GATEWAY_GROUP).withKind(kind).build();
  }

  /**
   * Gateway API: listeners on one port must differ in hostname and have compatible protocols
   * (HTTP alone; HTTPS and TLS together), otherwise they are all Conflicted.
   */
  private static void markConflicts(List<ListenerState> listeners) {
    for (ListenerState listener : listeners) {
      for (ListenerState other : listeners) {
        if (other != listener && conflict(listener, other)) {
          break;
        }
      }
    }
  }

  /**
   * GEP-1713 listener precedence: a ListenerSet's listener that is not distinct from one that
   * comes before it in the merged list (the Gateway's own, then older ListenerSets', then
   * earlier ones of its own set) is the one Conflicted, and not accepted; the earlier one keeps
   * serving. Listeners already Conflicted are not served, so they take nothing from later ones.
   */
  private static void markConflictWithEarlier(ListenerState listener,
      List<ListenerState> earlier) {
    for (ListenerState other : earlier) {
      if (other.conflictReason == null && conflict(listener, other)) {
        listener.reject(listener.conflictReason, listener.conflictMessage);
        return;
      }
    }
  }

  /** Marks {@code listener} Conflicted and returns true when it is not distinct from {@code other}. */
  private static boolean conflict(ListenerState listener, ListenerState other) {
    if (other.port() != listener.port() || udp(other) != udp(listener)) {
      return false; // UDP and TCP ports are separate: a UDP and a TCP-based listener can share one
    }
    String otherName = other.describeTo(listener);
    if (!compatible(other.spec.getProtocol(), listener.spec.getProtocol())) {
      listener.conflictReason = Conditions.REASON_PROTOCOL_CONFLICT;
      listener.conflictMessage = listener.describe() + ": port " + listener.port()
          + " is also used with protocol " + other.spec.getProtocol() + " by " + otherName;
      return true;
    }
    if (Objects.equals(other.hostname(), listener.hostname())) {
      listener.conflictReason = Conditions.REASON_HOSTNAME_CONFLICT;
      listener.conflictMessage = listener.describe() + ": " + otherName
          + " uses the same port " + listener.port() + " and hostname "
          + (listener.hostname() == null ? "(any)" : listener.hostname());
      return true;
    }
    return false;
  }

  /**
   * Gateway API (GatewaySpec.listeners): listeners on one port are compatible when all are HTTP,
   * or each is HTTPS or TLS; compatible listeners still need distinct hostnames. An HTTPS and a
   * TLS listener share a port the way Envoy Gateway serves them: the ClientHello's SNI name picks
   * the listener (see the stream proxy).
   */
  private static boolean compatible(String protocol, String other) {
    return Objects.equals(protocol, other) || tlsFamily(protocol) && tlsFamily(other);
  }

  private static boolean tlsFamily(String protocol) {
    return "HTTPS".equals(protocol) || "TLS".equals(protocol);
  }

  private static boolean udp(ListenerState listener) {
    return "UDP".equals(listener.spec.getProtocol());
  }

  /**
   * One process serves every Gateway: an address and port belong to the oldest Gateway that
   * listens on them, and other Gateways' listeners there are reported instead of silently
   * merged.
   */
  private static void claimPorts(Gateway gateway, String address, List<ListenerState> listeners,
      Map<String, Gateway> owners) {
    for (ListenerState listener : listeners) {
      if (!listener.serving()) {
        continue;
      }
      Gateway owner = owners.putIfAbsent(address + "|" + listener.port()
          + (udp(listener) ? "|udp" : ""), gateway);
      if (owner != null && owner != gateway) {
        listener.reject(Conditions.REASON_PORT_UNAVAILABLE, listener.describe() + ": port "
            + listener.port() + (address.isEmpty() ? "" : " on " + address)
            + " is already served for Gateway " + owner.getMetadata().getNamespace() + "/"
            + owner.getMetadata().getName() + "; give the Gateways distinct ports or addresses"
            + " (spec.addresses, or run with --gateway-address-pool)");
      }
    }
  }
}
