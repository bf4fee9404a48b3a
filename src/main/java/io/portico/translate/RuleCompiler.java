package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPQueryParamMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRetry;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteTimeouts;
import io.portico.ir.BackendGroup;
import io.portico.ir.CompiledRegex.InvalidRegexException;
import io.portico.status.Conditions;
import io.portico.ir.Filters;
import io.portico.ir.HeaderMatch;
import io.portico.ir.PathMatch;
import io.portico.ir.QueryParamMatch;
import io.portico.ir.RouteMatch;
import io.portico.ir.RouteRetry;
import io.portico.ir.RouteTimeouts;
import io.portico.ir.SessionPersistence;
import io.portico.resource.GoDuration;
import io.portico.ir.WeightedBackend;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Compiles the rules of one HTTPRoute: matches into {@link RouteMatch}es (regexes compiled
 * once), filters into {@link Filters} (see {@link FilterCompiler}), backendRefs into a
 * {@link BackendGroup}. A rule that cannot be served is dropped with a message naming it; the
 * others stay.
 */
final class RuleCompiler {

  private RuleCompiler() {
  }

  /**
   * Thrown inside this class (and {@link FilterCompiler}) for a rule that cannot be served;
   * never escapes {@link #compile}.
   */
  static final class InvalidRule extends Exception {
    /** The route condition reason: UnsupportedValue, or IncompatibleFilters. */
    final String reason;

    InvalidRule(String message) {
      this(Conditions.REASON_UNSUPPORTED_VALUE, message);
    }

    InvalidRule(String reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  static CompiledRoute compile(SnapshotIndex index, HTTPRoute route) {
    List<HTTPRouteRule> specs = route.getSpec() == null || route.getSpec().getRules() == null
        ? List.of() : route.getSpec().getRules();
    CompiledRoute.Builder compiled = new CompiledRoute.Builder(route);
    String base = "httproute/" + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName() + "/rule/";
    for (int i = 0; i < specs.size(); i++) {
      HTTPRouteRule spec = specs.get(i);
      try {
        List<RouteMatch> matches = matches(i, spec);
        String extension = FilterCompiler.extensionRef("rule " + i, spec.getFilters());
        if (extension != null) {
          // Not skipped, not dropped: the rule's requests get 500 (and none of its filters).
          compiled.add(new CompiledRoute.Rule(i, matches, BackendGroup.of(base + i,
              List.of(compiled.resolved(FilterCompiler.unsupportedExtension(
                  base + i + "/extension", 1, extension)))), Filters.NONE));
          continue;
        }
        MirrorResolver mirrors = new MirrorResolver(index, "HTTPRoute", route, i);
        Filters filters = FilterCompiler.compile("rule " + i, spec.getFilters(), spec, mirrors);
        RouteTimeouts timeouts = timeouts(i, spec);
        SessionPersistence persistence = SessionPersistenceCompiler.compile(i,
            spec.getSessionPersistence(), base + i);
        List<HTTPBackendRef> refs = spec.getBackendRefs() == null ? List.of() : spec.getBackendRefs();
        List<Filters> backendFilters = new ArrayList<>();
        List<String> backendExtensions = new ArrayList<>();
        for (int r = 0; r < refs.size(); r++) {
          String where = "rule " + i + " backendRefs[" + r + "]";
          String backendExtension = FilterCompiler.extensionRef(where, refs.get(r).getFilters());
          backendExtensions.add(backendExtension);
          backendFilters.add(backendExtension != null ? Filters.NONE
              : FilterCompiler.compile(where, refs.get(r).getFilters(), spec, mirrors));
        }
        // Only now that the whole rule is known to be valid may its references count in status.
        List<WeightedBackend> backends = new ArrayList<>();
        for (int r = 0; r < refs.size(); r++) {
          HTTPBackendRef ref = refs.get(r);
          backends.add(backendExtensions.get(r) != null
              ? compiled.resolved(FilterCompiler.unsupportedExtension(base + i + "/backend/" + r,
                  ref.getWeight() == null ? 1 : ref.getWeight(), backendExtensions.get(r)))
              : compiled.resolved(BackendRefResolver.resolve(index, route, i, r, ref))
                  .withFilters(backendFilters.get(r)));
        }
        mirrors.failures().forEach(compiled::resolved);
        compiled.add(new CompiledRoute.Rule(i, matches,
            BackendGroup.of(base + i, backends).withTimeouts(timeouts).withRetry(retry(i, spec))
                .withSessionPersistence(persistence),
            filters));
      } catch (InvalidRule e) {
        compiled.invalid(e.reason, e.getMessage());
      }
    }
    return compiled.build();
  }

  /**
   * Reads {@code timeouts}; "0s" disables a limit. A backendRequest longer than the request
   * limit can never take effect, which the Gateway API calls invalid.
   */
  private static RouteTimeouts timeouts(int ruleIndex, HTTPRouteRule spec) throws InvalidRule {
    HTTPRouteTimeouts timeouts = spec.getTimeouts();
    if (timeouts == null) {
      return RouteTimeouts.NONE;
    }
    long request = durationMillis(ruleIndex, "timeouts.request", timeouts.getRequest());
    long backendRequest =
        durationMillis(ruleIndex, "timeouts.backendRequest", timeouts.getBackendRequest());
    if (request > 0 && backendRequest > request) {
      throw new InvalidRule("rule " + ruleIndex + ": timeouts.backendRequest "
          + timeouts.getBackendRequest() + " is longer than timeouts.request " + timeouts.getRequest());
    }
    return new RouteTimeouts(request, backendRequest);
  }

  /**
   * Reads {@code retry}. Without codes only connection failures are retried; without attempts a
   * request is retried once.
   */
  private static RouteRetry retry(int ruleIndex, HTTPRouteRule spec) throws InvalidRule {
    HTTPRouteRetry retry = spec.getRetry();
    if (retry == null) {
      return RouteRetry.NONE;
    }
    Set<Integer> codes = new HashSet<>();
    if (retry.getCodes() != null) {
      for (Integer code : retry.getCodes()) {
        if (code == null || code < 400 || code > 599) {
          throw new InvalidRule("rule " + ruleIndex + ": retry.codes " + code
              + " (expected: 400-599)");
        }
        codes.add(code);
      }
    }
    int attempts = retry.getAttempts() == null ? 1 : retry.getAttempts();
    if (attempts < 0) {
      throw new InvalidRule("rule " + ruleIndex + ": retry.attempts " + attempts + " (expected: >= 0)");
    }
    return new RouteRetry(codes, attempts,
        durationMillis(ruleIndex, "retry.backoff", retry.getBackoff()));
  }

  private static long durationMillis(int ruleIndex, String field, String value) throws InvalidRule {
    if (value == null || value.isEmpty()) {
      return 0;
    }
    try {
      Duration duration = GoDuration.parse(value);
      if (duration.isNegative()) {
        throw new IllegalArgumentException("negative");
      }
      return duration.toMillis();
    } catch (IllegalArgumentException e) {
      throw new InvalidRule("rule " + ruleIndex + ": " + field + " '" + value
          + "' is not a duration such as 500ms, 10s or 1m");
    }
  }

  private static List<RouteMatch> matches(int ruleIndex, HTTPRouteRule spec) throws InvalidRule {
    if (spec.getMatches() == null || spec.getMatches().isEmpty()) {
      return List.of(RouteMatch.ANY);
    }
    List<RouteMatch> matches = new ArrayList<>();
    for (int m = 0; m < spec.getMatches().size(); m++) {
      matches.add(match("rule " + ruleIndex + " matches[" + m + "]",
          "spec.rules[" + ruleIndex + "].matches[" + m + "]", spec.getMatches().get(m)));
    }
    return matches;
  }

  /**
   * @param where the rule and match, as messages name them
   * @param field the match's field path, as the API server names it in its messages
   */
  private static RouteMatch match(String where, String field, HTTPRouteMatch spec)
      throws InvalidRule {
    PathMatch path = path(where, field + ".path.value", spec.getPath());
    String method = spec.getMethod() == null || spec.getMethod().isEmpty()
        ? null : spec.getMethod().toUpperCase(Locale.ROOT);
    List<HeaderMatch> headers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    if (spec.getHeaders() != null) {
      for (int h = 0; h < spec.getHeaders().size(); h++) {
        HTTPHeaderMatch header = spec.getHeaders().get(h);
        // Gateway API: of several matches on one header name, only the first counts.
        if (header.getName() == null || !seen.add(header.getName().toLowerCase(Locale.ROOT))) {
          continue;
        }
        headers.add(header(where, field + ".headers[" + h + "].value", header));
      }
    }
    List<QueryParamMatch> queryParams = new ArrayList<>();
    seen.clear();
    if (spec.getQueryParams() != null) {
      for (int q = 0; q < spec.getQueryParams().size(); q++) {
        HTTPQueryParamMatch param = spec.getQueryParams().get(q);
        if (param.getName() == null || !seen.add(param.getName())) {
          continue;
        }
        queryParams.add(queryParam(where, field + ".queryParams[" + q + "].value", param));
      }
    }
    return new RouteMatch(path, method, headers, queryParams);
  }

  private static PathMatch path(String where, String field, HTTPPathMatch spec)
      throws InvalidRule {
    if (spec == null) {
      return PathMatch.ANY;
    }
    String type = spec.getType() == null ? "PathPrefix" : spec.getType();
    String value = spec.getValue() == null ? "/" : spec.getValue();
    switch (type) {
      case "Exact":
      case "PathPrefix":
        if (!value.startsWith("/")) {
          throw new InvalidRule(where + ": path '" + value + "' must start with '/'");
        }
        return type.equals("Exact") ? PathMatch.exact(value) : PathMatch.prefix(value);
      case "RegularExpression":
        try {
          return PathMatch.regularExpression(value);
        } catch (InvalidRegexException e) {
          throw unsupportedRegex(field, value, e);
        }
      default:
        throw new InvalidRule(where + ": path match type " + type + " is not supported");
    }
  }

  static HeaderMatch header(String where, String field, HTTPHeaderMatch spec)
      throws InvalidRule {
    String type = spec.getType() == null ? "Exact" : spec.getType();
    String value = spec.getValue() == null ? "" : spec.getValue();
    try {
      switch (type) {
        case "Exact":
          return HeaderMatch.exact(spec.getName(), value);
        case "RegularExpression":
          return HeaderMatch.regularExpression(spec.getName(), value);
        default:
          throw new InvalidRule(where + ": header match type " + type + " is not supported");
      }
    } catch (InvalidRegexException e) {
      throw unsupportedRegex(field, value, e);
    }
  }

  private static QueryParamMatch queryParam(String where, String field, HTTPQueryParamMatch spec)
      throws InvalidRule {
    String type = spec.getType() == null ? "Exact" : spec.getType();
    String value = spec.getValue() == null ? "" : spec.getValue();
    try {
      switch (type) {
        case "Exact":
          return QueryParamMatch.exact(spec.getName(), value);
        case "RegularExpression":
          return QueryParamMatch.regularExpression(spec.getName(), value);
        default:
          throw new InvalidRule(where + ": query parameter match type " + type
              + " is not supported");
      }
    } catch (InvalidRegexException e) {
      throw unsupportedRegex(field, value, e);
    }
  }

  /**
   * A pattern RE2 cannot compile: invalid syntax, or a backreference or lookaround, which no
   * linear-time engine can run (Envoy's safe_regex refuses them too). The rule is dropped
   * (UnsupportedValue), naming the field as the API server would.
   */
  static InvalidRule unsupportedRegex(String field, String value,
      InvalidRegexException e) {
    return new InvalidRule(field + ": regular expression '" + value
        + "' is not supported: " + e.description()
        + " (RE2 syntax, as Envoy's safe_regex: no backreferences or lookaround)");
  }
}
