package io.portico.resource;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCMethodMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteRule;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the GRPCRoute CRD (gateway.networking.k8s.io/v1) refuses, as {@link GatewayApiSchema}
 * does for HTTPRoute: list sizes, enums, the formats of names, and the CEL rules on method
 * matches (service or method required; an Exact service or method in protobuf name syntax),
 * filters (a header modifier once per list) and rule names (unique). A cluster never hands
 * Portico such a GRPCRoute, so a file cannot either.
 */
final class GrpcRouteSchema {

  /** GRPCRouteRule matches: fewer than HTTPRoute's 64. */
  static final int MAX_MATCHES = 8;
  static final int MAX_METHOD_VALUE = 1024;
  private static final Pattern SERVICE =
      Pattern.compile("(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*");
  private static final Pattern METHOD = Pattern.compile("[A-Za-z_][A-Za-z_0-9]*");
  private static final List<String> FILTER_TYPES = List.of("ResponseHeaderModifier",
      "RequestHeaderModifier", "RequestMirror", "ExtensionRef");

  private GrpcRouteSchema() {
  }

  /** Returns what the GRPCRoute CRD schema refuses in {@code route}; empty when nothing. */
  static List<String> problems(GRPCRoute route) {
    List<String> problems = new ArrayList<>();
    var spec = route.getSpec();
    if (spec == null) {
      return problems;
    }
    GatewayApiSchema.maxItems(problems, "spec.parentRefs", spec.getParentRefs(),
        GatewayApiSchema.MAX_PARENT_REFS);
    if (spec.getHostnames() != null) {
      GatewayApiSchema.maxItems(problems, "spec.hostnames", spec.getHostnames(),
          GatewayApiSchema.MAX_HOSTNAMES);
      for (int i = 0; i < spec.getHostnames().size(); i++) {
        GatewayApiSchema.hostname(problems, "spec.hostnames[" + i + "]", spec.getHostnames().get(i));
      }
    }
    List<GRPCRouteRule> rules = spec.getRules();
    if (rules == null) {
      return problems;
    }
    GatewayApiSchema.maxItems(problems, "spec.rules", rules, GatewayApiSchema.MAX_RULES);
    Set<String> names = new HashSet<>();
    // Past the limit the rest is not looked at: the object is refused anyway.
    for (int r = 0; r < Math.min(rules.size(), GatewayApiSchema.MAX_RULES); r++) {
      GRPCRouteRule rule = rules.get(r);
      if (rule == null) {
        continue;
      }
      String at = "spec.rules[" + r + "]";
      if (rule.getName() != null) {
        GatewayApiSchema.sectionName(problems, at + ".name", rule.getName());
        if (!names.add(rule.getName())) {
          problems.add("spec.rules: Invalid value: \"" + rule.getName()
              + "\": Rule name must be unique within the route");
        }
      }
      List<GRPCRouteMatch> matches = rule.getMatches();
      if (matches != null) {
        GatewayApiSchema.maxItems(problems, at + ".matches", matches, MAX_MATCHES);
        for (int m = 0; m < Math.min(matches.size(), MAX_MATCHES); m++) {
          if (matches.get(m) != null) {
            match(problems, at + ".matches[" + m + "]", matches.get(m));
          }
        }
      }
      filters(problems, at + ".filters", rule.getFilters());
      backendRefs(problems, at, rule.getBackendRefs());
    }
    return problems;
  }

  private static void match(List<String> problems, String at, GRPCRouteMatch match) {
    GRPCMethodMatch method = match.getMethod();
    if (method != null) {
      String type = method.getType() == null ? "Exact" : method.getType();
      GatewayApiSchema.enumValue(problems, at + ".method.type", type,
          GatewayApiSchema.VALUE_MATCH_TYPES);
      String service = method.getService();
      String name = method.getMethod();
      if (service == null && name == null) {
        problems.add(at + ".method: Invalid value: \"object\": One or both of 'service' or"
            + " 'method' must be specified");
      }
      if (service != null) {
        GatewayApiSchema.maxLength(problems, at + ".method.service", service, MAX_METHOD_VALUE);
        if (type.equals("Exact") && !SERVICE.matcher(service).matches()) {
          problems.add(at + ".method: Invalid value: \"object\": service must only contain"
              + " valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)");
        }
      }
      if (name != null) {
        GatewayApiSchema.maxLength(problems, at + ".method.method", name, MAX_METHOD_VALUE);
        if (type.equals("Exact") && !METHOD.matcher(name).matches()) {
          problems.add(at + ".method: Invalid value: \"object\": method must only contain"
              + " valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)");
        }
      }
    }
    List<GRPCHeaderMatch> headers = match.getHeaders();
    if (headers != null) {
      GatewayApiSchema.maxItems(problems, at + ".headers", headers,
          GatewayApiSchema.MAX_HEADER_MATCHES);
      for (int h = 0; h < Math.min(headers.size(), GatewayApiSchema.MAX_HEADER_MATCHES); h++) {
        GRPCHeaderMatch header = headers.get(h);
        if (header == null) {
          continue;
        }
        String headerAt = at + ".headers[" + h + "]";
        if (header.getType() != null) {
          GatewayApiSchema.enumValue(problems, headerAt + ".type", header.getType(),
              GatewayApiSchema.VALUE_MATCH_TYPES);
        }
        GatewayApiSchema.headerName(problems, headerAt + ".name", header.getName());
        if (header.getValue() != null) {
          GatewayApiSchema.maxLength(problems, headerAt + ".value", header.getValue(),
              HttpSyntax.MAX_HEADER_VALUE);
        }
      }
    }
  }

  private static void filters(List<String> problems, String at, List<GRPCRouteFilter> filters) {
    if (filters == null) {
      return;
    }
    GatewayApiSchema.maxItems(problems, at, filters, GatewayApiSchema.MAX_FILTERS);
    Set<String> modifiers = new HashSet<>();
    for (int f = 0; f < Math.min(filters.size(), GatewayApiSchema.MAX_FILTERS); f++) {
      GRPCRouteFilter filter = filters.get(f);
      if (filter == null) {
        continue;
      }
      String type = filter.getType();
      if (type == null) {
        problems.add(at + "[" + f + "].type: Required value");
        continue;
      }
      GatewayApiSchema.enumValue(problems, at + "[" + f + "].type", type, FILTER_TYPES);
      if (type.endsWith("HeaderModifier") && !modifiers.add(type)) {
        problems.add(at + ": Invalid value: \"array\": " + type + " filter cannot be repeated");
      }
    }
  }

  private static void backendRefs(List<String> problems, String at, List<GRPCBackendRef> refs) {
    if (refs == null) {
      return;
    }
    GatewayApiSchema.maxItems(problems, at + ".backendRefs", refs,
        GatewayApiSchema.MAX_BACKEND_REFS);
    for (int b = 0; b < Math.min(refs.size(), GatewayApiSchema.MAX_BACKEND_REFS); b++) {
      GRPCBackendRef ref = refs.get(b);
      if (ref == null) {
        continue;
      }
      String refAt = at + ".backendRefs[" + b + "]";
      GatewayApiSchema.weightAndPort(problems, refAt, ref.getWeight(), ref.getPort());
      filters(problems, refAt + ".filters", ref.getFilters());
    }
  }
}
