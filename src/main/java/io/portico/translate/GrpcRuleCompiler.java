package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRefBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilterBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.portico.ir.BackendGroup;
import io.portico.ir.CompiledRegex;
import io.portico.ir.CompiledRegex.InvalidRegexException;
import io.portico.ir.Filters;
import io.portico.ir.HeaderMatch;
import io.portico.ir.PathMatch;
import io.portico.ir.RouteMatch;
import io.portico.ir.SessionPersistence;
import io.portico.ir.WeightedBackend;
import io.portico.translate.RuleCompiler.InvalidRule;
import io.portico.resource.HttpSyntax;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Compiles the rules of one GRPCRoute into what the proxy matches HTTP requests by: a gRPC call
 * is a POST to {@code /<package.Service>/<Method>}, so a method match becomes a path match
 * (Exact service and method: the exact path; a service alone: the prefix {@code /service/};
 * otherwise a regular expression over the path), and header matches are HTTP header matches
 * (gRPC metadata are HTTP/2 headers). Filters, backendRefs and sessionPersistence go through
 * the HTTPRoute compilers, which share their types. Backends are always spoken to over HTTP/2.
 * A rule that cannot be served is dropped with a message naming the field; the others stay.
 */
final class GrpcRuleCompiler {

  /** CRD pattern of {@code method.service} for Exact matches (a protobuf full name). */
  private static final Pattern SERVICE =
      Pattern.compile("(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*");
  /** CRD pattern of {@code method.method} for Exact matches. */
  private static final Pattern METHOD = Pattern.compile("[A-Za-z_][A-Za-z_0-9]*");
  private static final int MAX_NAME = 1024;
  /** The GRPCRouteFilter types of the Gateway API; ExtensionRef is not implemented. */
  private static final Set<String> FILTER_TYPES = Set.of("RequestHeaderModifier",
      "ResponseHeaderModifier", "RequestMirror");

  private GrpcRuleCompiler() {
  }

  static CompiledRoute compile(SnapshotIndex index, GRPCRoute route) {
    List<GRPCRouteRule> specs = route.getSpec() == null || route.getSpec().getRules() == null
        ? List.of() : route.getSpec().getRules();
    CompiledRoute.Builder compiled = new CompiledRoute.Builder(route);
    String base = "grpcroute/" + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName() + "/rule/";
    for (int i = 0; i < specs.size(); i++) {
      GRPCRouteRule spec = specs.get(i);
      try {
        List<RouteMatch> matches = new ArrayList<>();
        List<GrpcMatchRank> ranks = new ArrayList<>();
        if (spec.getMatches() == null || spec.getMatches().isEmpty()) {
          matches.add(RouteMatch.ANY);
          ranks.add(GrpcMatchRank.ANY);
        } else {
          for (int m = 0; m < spec.getMatches().size(); m++) {
            String field = "spec.rules[" + i + "].matches[" + m + "]";
            GRPCRouteMatch match = spec.getMatches().get(m);
            matches.add(match(field, match));
            ranks.add(rank(match));
          }
        }
        String extension = extensionRef("rule " + i, spec.getFilters());
        if (extension != null) {
          // As for HTTPRoute: the rule's calls get 500 (UNAVAILABLE over gRPC), not skipped.
          compiled.add(new CompiledRoute.Rule(i, List.copyOf(matches), BackendGroup.of(base + i,
              List.of(compiled.resolved(FilterCompiler.unsupportedExtension(
                  base + i + "/extension", 1, extension)))), Filters.NONE, List.copyOf(ranks)));
          continue;
        }
        MirrorResolver mirrors = new MirrorResolver(index, "GRPCRoute", route, i);
        Filters filters = filters("rule " + i, spec.getFilters(), mirrors);
        SessionPersistence persistence =
            SessionPersistenceCompiler.compile(i, spec.getSessionPersistence(), base + i);
        List<GRPCBackendRef> refs = spec.getBackendRefs() == null ? List.of() : spec.getBackendRefs();
        List<Filters> backendFilters = new ArrayList<>();
        List<String> backendExtensions = new ArrayList<>();
        for (int r = 0; r < refs.size(); r++) {
          String where = "rule " + i + " backendRefs[" + r + "]";
          String backendExtension = extensionRef(where, refs.get(r).getFilters());
          backendExtensions.add(backendExtension);
          backendFilters.add(backendExtension != null ? Filters.NONE
              : filters(where, refs.get(r).getFilters(), mirrors));
        }
        // Only now that the whole rule is known to be valid may its references count in status.
        List<WeightedBackend> backends = new ArrayList<>();
        for (int r = 0; r < refs.size(); r++) {
          GRPCBackendRef ref = refs.get(r);
          backends.add(backendExtensions.get(r) != null
              ? compiled.resolved(FilterCompiler.unsupportedExtension(base + i + "/backend/" + r,
                  ref.getWeight() == null ? 1 : ref.getWeight(), backendExtensions.get(r)))
              : compiled.resolved(BackendRefResolver.resolve(index, "GRPCRoute", route,
                  base + i, i, r, backendRef(ref))).withFilters(backendFilters.get(r))
                  .withHttp2());
        }
        mirrors.failures().forEach(compiled::resolved);
        compiled.add(new CompiledRoute.Rule(i, List.copyOf(matches),
            BackendGroup.of(base + i, backends).withSessionPersistence(persistence), filters,
            List.copyOf(ranks)));
      } catch (InvalidRule e) {
        compiled.invalid(e.reason, e.getMessage());
      }
    }
    return compiled.build();
  }

  /**
   * Compiles one GRPCRouteMatch.
   *
   * @param field the match's field path, as the API server names it in its messages
   */
  static RouteMatch match(String field, GRPCRouteMatch spec) throws InvalidRule {
    PathMatch path = path(field + ".method", spec.getMethod());
    List<HeaderMatch> headers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    if (spec.getHeaders() != null) {
      for (int h = 0; h < spec.getHeaders().size(); h++) {
        GRPCHeaderMatch header = spec.getHeaders().get(h);
        String at = field + ".headers[" + h + "]";
        if (header.getName() == null || header.getName().isEmpty()
            || !HttpSyntax.HEADER_NAME.matcher(header.getName()).matches()) {
          throw new InvalidRule(at + ".name: '" + header.getName()
              + "' is not a valid header name");
        }
        // As for HTTPRoute: of several matches on one header name, only the first counts.
        if (!seen.add(header.getName().toLowerCase(Locale.ROOT))) {
          continue;
        }
        headers.add(header(at, header));
      }
    }
    return new RouteMatch(path, null, headers, List.of());
  }

  /** What ranks a match among the others of its virtual host (see {@link GrpcMatchRank}). */
  static GrpcMatchRank rank(GRPCRouteMatch spec) {
    GRPCMethodMatch method = spec.getMethod();
    int headers = spec.getHeaders() == null ? 0 : (int) spec.getHeaders().stream()
        .map(h -> h.getName() == null ? "" : h.getName().toLowerCase(Locale.ROOT))
        .distinct().count();
    if (method == null || !"Exact".equals(type(method))) {
      return new GrpcMatchRank(0, 0, headers);
    }
    return new GrpcMatchRank(length(method.getService()), length(method.getMethod()), headers);
  }

  private static PathMatch path(String field, GRPCMethodMatch method) throws InvalidRule {
    if (method == null) {
      return PathMatch.ANY;
    }
    String service = empty(method.getService()) ? null : method.getService();
    String name = empty(method.getMethod()) ? null : method.getMethod();
    String type = type(method);
    // CRD CEL rule: "One or both of 'service' or 'method' must be specified".
    if (service == null && name == null) {
      throw new InvalidRule(field + ": one or both of 'service' or 'method' must be specified");
    }
    checkLength(field + ".service", service);
    checkLength(field + ".method", name);
    switch (type) {
      case "Exact":
        if (service != null && !SERVICE.matcher(service).matches()) {
          throw new InvalidRule(field + ".service: '" + service + "' must be a fully-qualified "
              + "protobuf service name (letters, digits and '_' in dot-separated parts)");
        }
        if (name != null && !METHOD.matcher(name).matches()) {
          throw new InvalidRule(field + ".method: '" + name + "' must be a protobuf method name "
              + "(letters, digits and '_')");
        }
        if (service != null && name != null) {
          return PathMatch.exact("/" + service + "/" + name);
        }
        if (service != null) {
          return PathMatch.prefix("/" + service + "/");
        }
        // The method names are letters, digits and '_': nothing to escape.
        return regex(field + ".method", "/[^/]+/" + name, name);
      case "RegularExpression":
        checkRegex(field + ".service", service);
        checkRegex(field + ".method", name);
        return regex(field, "/" + (service == null ? "[^/]+" : "(?:" + service + ")") + "/"
            + (name == null ? "[^/]+" : "(?:" + name + ")"), service + " / " + name);
      default:
        throw new InvalidRule(field + ".type: Unsupported value: \"" + type
            + "\": supported values: \"Exact\", \"RegularExpression\"");
    }
  }

  /** A GRPCHeaderMatch is an HTTPHeaderMatch by another name: compiled as one. */
  private static HeaderMatch header(String at, GRPCHeaderMatch spec) throws InvalidRule {
    return RuleCompiler.header(at, at + ".value", new HTTPHeaderMatchBuilder()
        .withName(spec.getName()).withType(spec.getType()).withValue(spec.getValue()).build());
  }

  /** {@link FilterCompiler#extensionRef(String, List, List)} of a GRPCRoute filter list. */
  private static String extensionRef(String where, List<GRPCRouteFilter> specs) {
    if (specs == null) {
      return null;
    }
    return FilterCompiler.extensionRef(where, specs.stream().map(GRPCRouteFilter::getType)
        .toList(), specs.stream().map(GRPCRouteFilter::getExtensionRef).toList());
  }

  /**
   * Compiles a GRPCRoute filter list with the HTTPRoute filter compiler: the filter types
   * GRPCRoute has (header modifiers, mirrors) use the HTTPRoute filter types. ExtensionRef is
   * handled before (see {@link FilterCompiler#extensionRef(String, List, List)}).
   */
  private static Filters filters(String where, List<GRPCRouteFilter> specs,
      MirrorResolver mirrors) throws InvalidRule {
    if (specs == null || specs.isEmpty()) {
      return Filters.NONE;
    }
    List<HTTPRouteFilter> converted = new ArrayList<>();
    for (int f = 0; f < specs.size(); f++) {
      GRPCRouteFilter spec = specs.get(f);
      String type = spec.getType();
      if (type != null && !FILTER_TYPES.contains(type)) {
        throw new InvalidRule(where + " filters[" + f + "]: filter type " + type
            + (type.equals("ExtensionRef") ? " is not supported yet"
                : " is not supported (supported: RequestHeaderModifier, ResponseHeaderModifier, "
                    + "RequestMirror)"));
      }
      converted.add(new HTTPRouteFilterBuilder()
          .withType(type)
          .withRequestHeaderModifier(spec.getRequestHeaderModifier())
          .withResponseHeaderModifier(spec.getResponseHeaderModifier())
          .withRequestMirror(spec.getRequestMirror())
          .build());
    }
    // No URLRewrite or RequestRedirect can be among them: the rule's matches do not matter.
    return FilterCompiler.compile(where, converted, new HTTPRouteRule(), mirrors);
  }

  /** Returns the backendRefs of every rule of {@code route}, as plain BackendRefs. */
  static List<List<BackendRef>> backendRefs(GRPCRoute route) {
    List<List<BackendRef>> rules = new ArrayList<>();
    if (route.getSpec() != null && route.getSpec().getRules() != null) {
      for (GRPCRouteRule rule : route.getSpec().getRules()) {
        List<BackendRef> refs = new ArrayList<>();
        if (rule != null && rule.getBackendRefs() != null) {
          rule.getBackendRefs().forEach(ref -> refs.add(backendRef(ref)));
        }
        rules.add(refs);
      }
    }
    return rules;
  }

  private static BackendRef backendRef(GRPCBackendRef ref) {
    return new BackendRefBuilder()
        .withGroup(ref.getGroup())
        .withKind(ref.getKind())
        .withName(ref.getName())
        .withNamespace(ref.getNamespace())
        .withPort(ref.getPort())
        .withWeight(ref.getWeight())
        .build();
  }

  private static PathMatch regex(String field, String pattern, String written)
      throws InvalidRule {
    try {
      return PathMatch.regularExpression(pattern);
    } catch (InvalidRegexException e) {
      throw RuleCompiler.unsupportedRegex(field, written, e);
    }
  }

  /** Compiles a service or method pattern alone, so that the message names its own field. */
  private static void checkRegex(String field, String value) throws InvalidRule {
    if (value == null) {
      return;
    }
    try {
      CompiledRegex.compile(value);
    } catch (InvalidRegexException e) {
      throw RuleCompiler.unsupportedRegex(field, value, e);
    }
  }

  private static void checkLength(String field, String value) throws InvalidRule {
    if (value != null && value.length() > MAX_NAME) {
      throw new InvalidRule(field + ": Too long: may not be longer than " + MAX_NAME);
    }
  }

  private static String type(GRPCMethodMatch method) {
    return method.getType() == null ? "Exact" : method.getType();
  }

  private static boolean empty(String value) {
    return value == null || value.isEmpty();
  }

  private static int length(String value) {
    return value == null ? 0 : value.length();
  }
}
