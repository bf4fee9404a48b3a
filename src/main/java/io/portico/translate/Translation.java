package io.portico.translate;

import io.portico.ir.RoutingTable;
import io.portico.status.StatusReport;

/**
 * The result of translating one snapshot: what to serve and what to report.
 *
 * @param table the routing table for the proxies
 * @param status the status of every object Portico owns
 */
public record Translation(RoutingTable table, StatusReport status) {
}
