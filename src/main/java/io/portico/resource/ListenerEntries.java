package io.portico.resource;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerEntry;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the listeners of a ListenerSet as Gateway listeners. A {@code ListenerEntry} has exactly
 * the fields of a Gateway {@code Listener} (GEP-1713: "ListenerEntry is currently a copy of the
 * Listener struct"), so one set of validation rules and one listener pipeline serve both.
 */
public final class ListenerEntries {

  private ListenerEntries() {
  }

  /** Returns the listener {@code entry} describes; null for a null entry. */
  public static Listener asListener(ListenerEntry entry) {
    if (entry == null) {
      return null;
    }
    return new ListenerBuilder()
        .withName(entry.getName())
        .withHostname(entry.getHostname())
        .withPort(entry.getPort())
        .withProtocol(entry.getProtocol())
        .withTls(entry.getTls())
        .withAllowedRoutes(entry.getAllowedRoutes())
        .build();
  }

  /** Returns the ListenerSet's {@code spec.listeners} as Gateway listeners, in order. */
  public static List<Listener> listeners(ListenerSet listenerSet) {
    List<Listener> listeners = new ArrayList<>();
    if (listenerSet.getSpec() == null || listenerSet.getSpec().getListeners() == null) {
      return listeners;
    }
    for (ListenerEntry entry : listenerSet.getSpec().getListeners()) {
      listeners.add(asListener(entry));
    }
    return listeners;
  }
}
