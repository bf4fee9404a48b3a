package io.portico.translate;

import java.util.Comparator;

/**
 * What ranks one GRPCRoute match against the others of its virtual host (GRPCRouteRule
 * documentation: after the hostname, the largest number of characters in a matching service,
 * then in a matching method, then the largest number of header matches).
 *
 * <p>A RegularExpression service or method counts as zero characters: the spec counts the
 * characters of what is matched literally, and a pattern's length says nothing about how much
 * it narrows the match (Envoy Gateway likewise ranks an exact path above a regular expression).
 *
 * @param serviceChars characters of an Exact {@code method.service}; 0 for none or a regex
 * @param methodChars characters of an Exact {@code method.method}; 0 for none or a regex
 * @param headers the number of header matches
 */
record GrpcMatchRank(int serviceChars, int methodChars, int headers) {

  /** A match of every call (a rule without matches). */
  static final GrpcMatchRank ANY = new GrpcMatchRank(0, 0, 0);

  /** Most preferred first. */
  static final Comparator<GrpcMatchRank> ORDER = Comparator
      .comparingInt((GrpcMatchRank r) -> -r.serviceChars())
      .thenComparingInt(r -> -r.methodChars())
      .thenComparingInt(r -> -r.headers());
}
