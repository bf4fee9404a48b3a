package io.portico.controller;

import io.portico.bus.Versioned;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.resource.ResourceSnapshot;
import io.portico.status.StatusReport;


/**
 * What the configuration side last published, readable from any thread (admin API, tests).
 *
 * @param table the routing table and its version
 * @param endpoints the endpoints and their version
 * @param status the status of the last translation
 * @param snapshot the objects that translation read (with the generations its conditions
 *     observed)
 */
public record GatewayState(Versioned<RoutingTable> table, Versioned<EndpointsIndex> endpoints,
    StatusReport status, ResourceSnapshot snapshot) {

  public static final GatewayState INITIAL = new GatewayState(new Versioned<>(0, RoutingTable.EMPTY),
      new Versioned<>(0, EndpointsIndex.EMPTY), StatusReport.EMPTY, ResourceSnapshot.EMPTY);
}
