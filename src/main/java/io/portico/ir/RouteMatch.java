package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.List;
import java.util.Objects;

/**
 * The conditions of one Gateway API {@code HTTPRouteMatch}; all must hold (AND).
 *
 * @param path the path condition (default: prefix "/")
 * @param method the HTTP method that must be used, upper case; null for any
 * @param headers header conditions, all of which must hold
 * @param queryParams query parameter conditions, all of which must hold
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record RouteMatch(PathMatch path, String method, List<HeaderMatch> headers,
    List<QueryParamMatch> queryParams) {

  /** Matches every request. */
  public static final RouteMatch ANY = new RouteMatch(PathMatch.ANY, null, List.of(), List.of());

  public RouteMatch {
    Objects.requireNonNull(path, "path");
    headers = List.copyOf(headers);
    queryParams = List.copyOf(queryParams);
  }
}
