package io.portico.translate;

import io.portico.ir.PathMatch;
import io.portico.ir.RouteMatch;

import java.util.Comparator;

/**
 * Orders route matches the way the Gateway API requires (HTTPRouteRule documentation), most
 * preferred first:
 * <ol>
 *   <li>the most specific matching hostname (exact, then longer wildcards, then any host);</li>
 *   <li>an Exact path, then a RegularExpression path (implementation-specific; Envoy Gateway's
 *       order), then a PathPrefix, longer values first within each type;</li>
 *   <li>a method match;</li>
 *   <li>more header matches, then more query parameter matches;</li>
 *   <li>the oldest route, then namespace/name alphabetically;</li>
 *   <li>rule order, then match order inside the route.</li>
 * </ol>
 * GRPCRoute matches rank by their own criteria after the hostname (see {@link GrpcMatchRank}),
 * then as above from the oldest route on. The two kinds are never merged (GRPCRouteRule
 * documentation): a listener takes only one of an HTTPRoute and a GRPCRoute whose hostnames
 * intersect (see {@link HttpRoutePhase}), so a virtual host holds one kind; should both ever
 * meet, HTTPRoute matches come first, which keeps the order total.
 */
final class RoutePrecedence {

  /** A route entry as seen from one virtual host: with the hostname it matched there. */
  record Candidate(RouteEntry entry, String matchedHostname) {
  }

  static final Comparator<RouteMatch> MATCH_ORDER = Comparator
      .comparingInt((RouteMatch m) -> pathRank(m.path()))
      .thenComparing(m -> -m.path().length())
      .thenComparing(m -> m.method() == null ? 1 : 0)
      .thenComparing(m -> -m.headers().size())
      .thenComparing(m -> -m.queryParams().size());

  /** HTTPRoute matches by {@link #MATCH_ORDER}, GRPCRoute matches by {@link GrpcMatchRank}. */
  private static final Comparator<RouteEntry> KIND_MATCH_ORDER = (a, b) -> {
    if (a.grpcRank() == null && b.grpcRank() == null) {
      return MATCH_ORDER.compare(a.match(), b.match());
    }
    if (a.grpcRank() != null && b.grpcRank() != null) {
      return GrpcMatchRank.ORDER.compare(a.grpcRank(), b.grpcRank());
    }
    return a.grpcRank() == null ? -1 : 1;
  };

  static final Comparator<Candidate> ORDER = Comparator
      .comparingInt((Candidate c) -> -Hostnames.specificity(c.matchedHostname()))
      .thenComparing(Candidate::entry, KIND_MATCH_ORDER)
      .thenComparing(c -> c.entry().route(), SnapshotIndex.OLDEST_FIRST)
      .thenComparingInt(c -> c.entry().ruleIndex())
      .thenComparingInt(c -> c.entry().matchIndex());

  private RoutePrecedence() {
  }

  private static int pathRank(PathMatch path) {
    switch (path.type()) {
      case EXACT:
        return 0;
      case REGULAR_EXPRESSION:
        return 1;
      default:
        return 2;
    }
  }
}
