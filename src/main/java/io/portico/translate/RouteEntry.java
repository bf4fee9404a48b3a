package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.ir.BackendGroup;
import io.portico.ir.Filters;
import io.portico.ir.RouteMatch;
import io.portico.ir.SourceRef;

import java.util.List;

/**
 * One match of one valid rule, attached to one listener, with the host name patterns it serves
 * there (the intersection of the route's and the listener's hostnames), and the rule's filters.
 *
 * @param grpcRank for a GRPCRoute match, what ranks it among the others (see
 *     {@link RoutePrecedence}); null for an HTTPRoute match, which its {@code match} ranks
 */
record RouteEntry(HasMetadata route, int ruleIndex, int matchIndex, String name, SourceRef source,
    RouteMatch match, BackendGroup backends, List<String> hostnames, Filters filters,
    GrpcMatchRank grpcRank) {
}
