package io.portico.controller;

import io.portico.bus.Versioned;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.status.StatusReport;


/**
 * What the configuration side last published, readable from any thread (admin API, tests).
 *
 * @param table the routing table and its version
 * @param endpoints the endpoints and their version
 * @param status the status of the last translation
 */
public record GatewayState(Versioned<RoutingTable> table, Versioned<EndpointsIndex> endpoints,
    StatusReport status) {

  public static final GatewayState INITIAL = new GatewayState(new Versioned<>(0, RoutingTable.EMPTY),
      new Versioned<>(0, EndpointsIndex.EMPTY), StatusReport.EMPTY);
}
