package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewaySpecAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddress;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusAddressBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatusBuilder;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.List;

/** Writes the status of a Gateway and its listeners once routes have been attached. */
final class GatewayStatusPhase {

  static final String REASON_ADDRESS_NOT_ASSIGNED = "AddressNotAssigned";

  private GatewayStatusPhase() {
  }

  /** @param sharedAddress the address reported for Gateways on the shared bind address */
  static GatewayStatus build(GatewayState state, String sharedAddress) {
    Gateway gateway = state.gateway();
    long generation = SnapshotIndex.generation(gateway);
    List<ListenerStatus> listeners = new ArrayList<>();
    int serving = 0;
    // GEP-1713: the Gateway's status reflects its own listeners only; those of its ListenerSets
    // are reported on each ListenerSet.
    List<ListenerState> own = state.ownListeners();
    for (ListenerState listener : own) {
      listeners.add(listenerStatus(listener, generation));
      if (listener.serving()) {
        serving++;
      }
    }
    List<Condition> conditions = new ArrayList<>();
    int total = own.size();
    GatewayAddressCheck addressCheck = state.addresses();
    ListenerState frontendFailure = own.stream()
        .filter(l -> l.frontendValidationFailed).findFirst().orElse(null);
    String invalidParameters = state.invalidParameters();
    if (invalidParameters != null) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false,
          Parameters.REASON_INVALID_PARAMETERS, invalidParameters, generation));
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "All references are resolved", generation));
    } else if (addressCheck.unsupported() != null) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false,
          GatewayAddressCheck.REASON_UNSUPPORTED_ADDRESS, addressCheck.unsupported(), generation));
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "All references are resolved", generation));
    } else if (frontendFailure != null) {
      // Gateway API: client certificate validation without a usable CA is a Gateway-level fault.
      conditions.add(Conditions.of(Conditions.ACCEPTED, false,
          FrontendValidation.REASON_NO_VALID_CA, frontendFailure.unresolvedMessage, generation));
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false,
          frontendFailure.unresolvedReason, frontendFailure.unresolvedMessage, generation));
    } else {
      if (serving == total) {
        conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
            "Gateway is accepted", generation));
      } else {
        conditions.add(Conditions.of(Conditions.ACCEPTED, serving > 0,
            Conditions.REASON_LISTENERS_NOT_VALID, (total - serving) + " of " + total
                + " listeners are not valid (" + String.join(", ", own.stream()
                    .filter(l -> !l.serving()).map(l -> "'" + l.name() + "'").toList())
                + "); see status.listeners for each", generation));
      }
      BackendClientCertificate.Result backendClient = state.backendClient();
      if (backendClient.invalid()) {
        // The Gateway is still served; TLS connections to backends go without a client
        // certificate, which a backend that requires one refuses (502).
        conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false, backendClient.reason(),
            backendClient.message(), generation));
      } else if (own.stream().anyMatch(l -> l.unresolvedReason != null)) {
        // Gateway API: the Gateway's ResolvedRefs summarises its listeners' too.
        conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false,
            Conditions.REASON_LISTENERS_NOT_RESOLVED, "listeners with unresolved references: "
                + String.join(", ", own.stream().filter(l -> l.unresolvedReason != null)
                    .map(l -> "'" + l.name() + "' (" + l.unresolvedReason + ")").toList())
                + "; see status.listeners for each", generation));
      } else {
        conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true,
            Conditions.REASON_RESOLVED_REFS, "All references are resolved", generation));
      }
    }
    if (invalidParameters != null) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, Conditions.REASON_INVALID,
          "the Gateway is not accepted: " + invalidParameters, generation));
    } else if (addressCheck.unsupported() != null) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false,
          GatewayAddressCheck.REASON_UNSUPPORTED_ADDRESS, addressCheck.unsupported(), generation));
    } else if (AddressPool.NOT_ASSIGNED.equals(state.address())) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, REASON_ADDRESS_NOT_ASSIGNED,
          "the address pool (--gateway-address-pool) has no free address left for this Gateway;"
              + " use a larger block, or set an IPAddress in spec.addresses", generation));
    } else if (!addressCheck.unusable().isEmpty()) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false,
          GatewayAddressCheck.REASON_ADDRESS_NOT_USABLE, "this host cannot serve on "
              + String.join(", ", addressCheck.unusable()) + " (spec.addresses)", generation));
    } else if (serving > 0) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, true, Conditions.REASON_PROGRAMMED,
          "Gateway is programmed", generation));
    } else {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, Conditions.REASON_INVALID,
          "no listener of the Gateway can be served (" + String.join(", ", own.stream()
              .map(l -> "'" + l.name() + "'").toList()) + "; see status.listeners for each)",
          generation));
    }
    // Gateway API: present (True) only while some port lets clients in without a valid
    // certificate; removed when the mode is back to AllowValidOnly.
    List<String> insecure = FrontendValidation.insecureFallbackFields(gateway);
    if (!insecure.isEmpty()) {
      conditions.add(Conditions.of(FrontendValidation.INSECURE_FRONTEND_VALIDATION_MODE, true,
          FrontendValidation.REASON_CONFIGURATION_CHANGED, String.join(", ", insecure)
              + " is AllowInsecureFallback: clients without a valid certificate are served",
          generation));
    }
    return new GatewayStatusBuilder()
        .withAddresses(addresses(state, sharedAddress))
        .withConditions(conditions)
        .withListeners(listeners)
        .build();
  }

  /**
   * Returns whether a Gateway with these addresses and own listeners is {@code Accepted=True}:
   * the rule {@link #build} applies (no infrastructure parametersRef, a supported address type,
   * no client certificate validation without a usable CA, and at least one of its own listeners
   * served). Known before routes attach, so that a Gateway that is not accepted takes no
   * ListenerSet listeners.
   */
  static boolean accepted(Gateway gateway, GatewayAddressCheck addresses,
      List<ListenerState> own) {
    return Parameters.invalid(gateway) == null && addresses.unsupported() == null
        && own.stream().noneMatch(l -> l.frontendValidationFailed)
        && own.stream().anyMatch(ListenerState::serving);
  }

  /** Reports the requested addresses Portico can serve on, else the one it serves on. */
  private static List<GatewayStatusAddress> addresses(GatewayState state, String sharedAddress) {
    List<GatewayStatusAddress> addresses = new ArrayList<>();
    for (String usable : state.addresses().usable()) {
      addresses.add(new GatewayStatusAddressBuilder().withType("IPAddress").withValue(usable)
          .build());
    }
    String servedAddress = state.address().isEmpty() ? sharedAddress : state.address();
    if (addresses.isEmpty() && !AddressPool.NOT_ASSIGNED.equals(state.address())) {
      addresses.add(new GatewayStatusAddressBuilder().withType("IPAddress")
          .withValue(servedAddress).build());
    }
    return addresses;
  }

  private static ListenerStatus listenerStatus(ListenerState listener, long generation) {
    return new ListenerStatusBuilder()
        .withName(listener.name())
        .withSupportedKinds(listener.supportedKinds)
        .withAttachedRoutes(listener.attachedRoutes)
        .withConditions(listenerConditions(listener, generation))
        .build();
  }

  /** Says why a listener is not served, naming what is at fault. */
  private static String notProgrammedMessage(ListenerState listener) {
    if (!listener.accepted) {
      return "not accepted: " + listener.acceptedMessage;
    }
    if (listener.conflictReason != null) {
      return "conflicted: " + listener.conflictMessage;
    }
    if (listener.certificateInvalid) {
      return "no usable certificate: " + listener.unresolvedMessage;
    }
    return "takes no route kind: " + listener.unresolvedMessage;
  }

  /**
   * Returns a listener's Accepted, Conflicted, ResolvedRefs, OverlappingTLSConfig (only when
   * True) and Programmed conditions: those of a Gateway's listener status, and of a
   * ListenerSet's listener entry status.
   */
  static List<Condition> listenerConditions(ListenerState listener, long generation) {
    List<Condition> conditions = new ArrayList<>();
    if (listener.accepted) {
      conditions.add(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
          "Listener is accepted", generation));
    } else {
      conditions.add(Conditions.of(Conditions.ACCEPTED, false, listener.acceptedReason,
          listener.acceptedMessage, generation));
    }
    if (listener.conflictReason == null) {
      conditions.add(Conditions.of(Conditions.CONFLICTED, false, Conditions.REASON_NO_CONFLICTS,
          "Listener does not conflict with another listener", generation));
    } else {
      conditions.add(Conditions.of(Conditions.CONFLICTED, true, listener.conflictReason,
          listener.conflictMessage, generation));
    }
    if (listener.unresolvedReason == null) {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, true, Conditions.REASON_RESOLVED_REFS,
          "All references are resolved", generation));
    } else {
      conditions.add(Conditions.of(Conditions.RESOLVED_REFS, false, listener.unresolvedReason,
          listener.unresolvedMessage, generation));
    }
    if (listener.overlapMessage != null) {
      // Negative polarity: the Gateway API forbids setting it False.
      conditions.add(Conditions.of(TlsOverlap.OVERLAPPING_TLS_CONFIG, true,
          TlsOverlap.REASON_OVERLAPPING_HOSTNAMES, listener.overlapMessage, generation));
    }
    if (listener.serving()) {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, true, Conditions.REASON_PROGRAMMED,
          "Listener is programmed", generation));
    } else {
      conditions.add(Conditions.of(Conditions.PROGRAMMED, false, listener.notProgrammedReason(),
          notProgrammedMessage(listener), generation));
    }
    return conditions;
  }
}
