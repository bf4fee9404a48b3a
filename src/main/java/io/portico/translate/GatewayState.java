package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;

import java.util.List;

/**
 * A Gateway of one of Portico's classes and the state of its listeners during a translation.
 *
 * <p>{@code listeners} holds its own listeners, then those of the ListenerSets it admits, in
 * GEP-1713 precedence order: everything served on the Gateway's address.
 *
 * @param address the address the Gateway is served on; empty for the proxy's shared bind address,
 *     {@link AddressPool#NOT_ASSIGNED} when the address pool had none left
 * @param addresses what its spec.addresses allow
 * @param backendClient its spec.tls.backend.clientCertificateRef, resolved
 */
record GatewayState(Gateway gateway, String address, GatewayAddressCheck addresses,
    List<ListenerState> listeners, BackendClientCertificate.Result backendClient) {

  /**
   * Whether the proxy serves the Gateway at all: not when it names infrastructure parameters
   * (InvalidParameters), asks for an address type Portico does not understand, or only for
   * addresses this host does not have, or got no address from the pool.
   */
  boolean served() {
    return invalidParameters() == null && !AddressPool.NOT_ASSIGNED.equals(address)
        && addresses.unsupported() == null
        && (addresses.unusable().isEmpty() || !addresses.usable().isEmpty());
  }

  /** Returns why spec.infrastructure.parametersRef cannot be used, or null. */
  String invalidParameters() {
    return Parameters.invalid(gateway);
  }

  /**
   * Returns the Gateway's own listeners ({@code spec.listeners}), without those its ListenerSets
   * contributed.
   */
  List<ListenerState> ownListeners() {
    return listeners.stream().filter(l -> l.listenerSet == null).toList();
  }

  /** Returns the Gateway's own listener of that name (not a ListenerSet's), or null. */
  ListenerState listener(String name) {
    for (ListenerState listener : listeners) {
      if (listener.listenerSet == null && listener.name().equals(name)) {
        return listener;
      }
    }
    return null;
  }
}
