package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;

import java.util.List;

/**
 * A Gateway of one of Portico's classes and the state of its listeners during a translation.
 *
 * @param address the address the Gateway is served on; empty for the proxy's shared bind address
 */
record GatewayState(Gateway gateway, String address, List<ListenerState> listeners) {

  ListenerState listener(String name) {
    for (ListenerState listener : listeners) {
      if (listener.name().equals(name)) {
        return listener;
      }
    }
    return null;
  }
}
