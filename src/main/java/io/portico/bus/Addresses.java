package io.portico.bus;

/** Names the event-bus addresses between the configuration verticle and the proxy verticles. */
public final class Addresses {

  /** Published: a {@code Versioned<RoutingTable>} whenever the table changes. */
  public static final String ROUTING_TABLE = "portico.routing-table";

  /** Published: a {@code Versioned<EndpointsIndex>} whenever endpoints change. */
  public static final String ENDPOINTS = "portico.endpoints";

  /** Request/reply: answers a {@link ProxyState} with the current table and endpoints. */
  public static final String CURRENT_STATE = "portico.current-state";

  private Addresses() {
  }
}
