package io.portico.bus;

import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;

/**
 * What a proxy verticle needs to serve: the current routing table and endpoints, as answered on
 * {@link Addresses#CURRENT_STATE} to a proxy instance that just started.
 */
public record ProxyState(Versioned<RoutingTable> table, Versioned<EndpointsIndex> endpoints) {
}
