package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.ir.BackendGroup;
import io.portico.ir.Filters;
import io.portico.ir.RouteMatch;
import io.portico.ir.WeightedBackend;

import java.util.ArrayList;
import java.util.List;

/**
 * An HTTPRoute's or GRPCRoute's rules compiled once, independently of the listeners it attaches
 * to.
 *
 * @param route the HTTPRoute or GRPCRoute
 * @param rules its valid rules
 * @param invalidRules one message per rule that was dropped (bad regex, unsupported filter ...)
 * @param invalidReason the route condition reason of the first dropped rule (UnsupportedValue,
 *     or IncompatibleFilters), or null when no rule was dropped
 * @param unresolvedReason the ResolvedRefs reason of the first backendRef that failed, or null
 * @param unresolvedRefs one message per backendRef that failed
 */
record CompiledRoute(HasMetadata route, List<Rule> rules, List<String> invalidRules,
    String invalidReason, String unresolvedReason, List<String> unresolvedRefs) {

  /**
   * One valid rule: its matches (OR-ed), its backends and its rule-level filters.
   *
   * @param grpcMatches for a GRPCRoute rule, what ranks each of {@code matches} (same order);
   *     empty for an HTTPRoute rule
   */
  record Rule(int index, List<RouteMatch> matches, BackendGroup backends, Filters filters,
      List<GrpcMatchRank> grpcMatches) {

    /** An HTTPRoute rule. */
    Rule(int index, List<RouteMatch> matches, BackendGroup backends, Filters filters) {
      this(index, matches, backends, filters, List.of());
    }
  }

  boolean allRulesInvalid() {
    return rules.isEmpty() && !invalidRules.isEmpty();
  }

  /**
   * Collects a route's rules as a compiler goes through them: the valid ones, the messages of
   * the dropped ones, and the backendRefs (and mirror references) that did not resolve, whose
   * first reason becomes ResolvedRefs'.
   */
  static final class Builder {

    private final HasMetadata route;
    private final List<Rule> rules = new ArrayList<>();
    private final List<String> invalid = new ArrayList<>();
    private String invalidReason;
    private final List<String> unresolved = new ArrayList<>();
    private String unresolvedReason;

    Builder(HasMetadata route) {
      this.route = route;
    }

    void add(Rule rule) {
      rules.add(rule);
    }

    void invalid(String reason, String message) {
      invalidReason = invalidReason == null ? reason : invalidReason;
      invalid.add(message);
    }

    /**
     * Counts {@code resolution} in ResolvedRefs when it failed; returns its backend. Only for the
     * references of a rule known to be valid (a dropped rule's do not count).
     */
    WeightedBackend resolved(BackendRefResolver.Resolution resolution) {
      if (resolution.failureReason() != null) {
        unresolvedReason = unresolvedReason == null ? resolution.failureReason() : unresolvedReason;
        unresolved.add(resolution.failureMessage());
      }
      return resolution.backend();
    }

    CompiledRoute build() {
      return new CompiledRoute(route, List.copyOf(rules), List.copyOf(invalid), invalidReason,
          unresolvedReason, List.copyOf(unresolved));
    }
  }
}
