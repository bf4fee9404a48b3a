package io.portico.ir;

import java.util.Objects;

/**
 * One match of one HTTPRoute rule, in the precedence order of its virtual host. A rule with
 * several matches yields several routes sharing the same {@link BackendGroup}.
 *
 * @param name deterministic name, e.g. {@code httproute/default/web/rule/0/match/1}
 * @param source the HTTPRoute and rule it came from
 * @param match what the request must look like
 * @param backends where matching requests go
 */
public record Route(String name, SourceRef source, RouteMatch match, BackendGroup backends) {

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(match, "match");
    Objects.requireNonNull(backends, "backends");
  }
}
