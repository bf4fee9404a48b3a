package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * One match of one HTTPRoute rule, in the precedence order of its virtual host. A rule with
 * several matches yields several routes sharing the same {@link BackendGroup} and
 * {@link Filters}.
 *
 * @param name deterministic name, e.g. {@code httproute/default/web/rule/0/match/1}
 * @param source the HTTPRoute and rule it came from
 * @param match what the request must look like
 * @param backends where matching requests go (not used when {@code filters} redirect)
 * @param filters the rule's filters; {@link Filters#NONE} when it has none
 * @param unenforced a security policy attached to the rule that Portico cannot enforce: every
 *     request the route matches is answered 500 naming it, before filters and backends; null
 *     when there is none
 */
public record Route(String name, SourceRef source, RouteMatch match, BackendGroup backends,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = Filters.OmitWhenEmpty.class)
    Filters filters,
    @JsonInclude(JsonInclude.Include.NON_NULL)
    UnenforcedPolicy unenforced) {

  /** A route without filters. */
  public Route(String name, SourceRef source, RouteMatch match, BackendGroup backends) {
    this(name, source, match, backends, Filters.NONE);
  }

  /** A route every policy of which is enforced. */
  public Route(String name, SourceRef source, RouteMatch match, BackendGroup backends,
      Filters filters) {
    this(name, source, match, backends, filters, null);
  }

  public Route {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(match, "match");
    Objects.requireNonNull(backends, "backends");
    Objects.requireNonNull(filters, "filters");
  }
}
