package io.portico.bus;

import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Subscribes a proxy verticle to the routing table and the endpoints: every later version is
 * handed over as it is published, and the current state is asked for and applied first, so a
 * verticle that starts after the first table still serves it.
 */
public final class StateSubscription {

  private StateSubscription() {
  }

  /**
   * Subscribes on {@code vertx}'s event bus (call from the verticle's start, on its context).
   *
   * @param onTable applies a table; its future completes once the table is served
   * @param onEndpoints applies an endpoints index
   * @return completes once the current state, if any, has been applied
   */
  public static Future<Void> subscribe(Vertx vertx,
      Function<Versioned<RoutingTable>, Future<?>> onTable,
      Consumer<Versioned<EndpointsIndex>> onEndpoints) {
    vertx.eventBus().<Versioned<RoutingTable>>localConsumer(Addresses.ROUTING_TABLE,
        message -> onTable.apply(message.body()));
    vertx.eventBus().<Versioned<EndpointsIndex>>localConsumer(Addresses.ENDPOINTS,
        message -> onEndpoints.accept(message.body()));
    return vertx.eventBus().<ProxyState>request(Addresses.CURRENT_STATE, null)
        .compose(reply -> {
          ProxyState state = reply.body();
          if (state.endpoints() != null) {
            onEndpoints.accept(state.endpoints());
          }
          return state.table() == null ? Future.succeededFuture()
              : onTable.apply(state.table()).mapEmpty();
        });
  }
}
