package io.portico.resource;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPQueryParamMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Listener;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The limits, formats and enums of the Gateway API v1 CRD schemas (Standard and Experimental
 * channel) for the objects Portico serves, checked on objects read from files as the API
 * server checks them on {@code kubectl apply}: a cluster never hands Portico an HTTPRoute with
 * 10,000 rules, so a file must not either (every fall-through request would walk them). The
 * messages use the API server's wording ({@code spec.rules: Too many: 17: must have at most 16
 * items}). Checks the translator reports as status (a bad regex, a filter it does not support)
 * are not repeated here: an object that passes the schema is translated.
 */
final class GatewayApiSchema {

  // Gateway API v1 CRD limits (apis/v1/httproute_types.go, gateway_types.go, shared_types.go).
  static final int MAX_PARENT_REFS = 32;
  static final int MAX_HOSTNAMES = 16;
  static final int MAX_RULES = 16;
  static final int MAX_MATCHES = 64;
  /** CEL on HTTPRoute spec.rules: the matches of all rules together. */
  static final int MAX_TOTAL_MATCHES = 128;
  static final int MAX_FILTERS = 16;
  static final int MAX_BACKEND_REFS = 16;
  static final int MAX_HEADER_MATCHES = 16;
  static final int MAX_QUERY_PARAM_MATCHES = 16;
  static final int MAX_LISTENERS = 64;
  static final int MAX_ADDRESSES = 16;
  static final int MAX_CERTIFICATE_REFS = 64;
  static final int MAX_ROUTE_KINDS = 8;
  static final int MAX_PATH_VALUE = 1024;
  static final int MAX_HOSTNAME = 253;
  static final int MAX_SECTION_NAME = 253;

  /** Hostname: a precise or wildcard DNS name, lower case (no IP address is rejected here). */
  private static final Pattern HOSTNAME = Pattern.compile(
      "(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** SectionName (listener and rule names). */
  private static final Pattern SECTION_NAME = Pattern.compile(
      "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

  private static final List<String> PATH_TYPES = List.of("Exact", "PathPrefix",
      "RegularExpression");
  static final List<String> VALUE_MATCH_TYPES = List.of("Exact", "RegularExpression");
  private static final List<String> METHODS = HttpSyntax.METHODS;
  /** Standard channel types, and the Experimental channel's CORS and ExternalAuth. */
  private static final List<String> FILTER_TYPES = List.of("RequestHeaderModifier",
      "ResponseHeaderModifier", "RequestMirror", "RequestRedirect", "URLRewrite", "ExtensionRef",
      "CORS", "ExternalAuth");
  private static final Set<String> PREFIX_OR_EXACT = Set.of("Exact", "PathPrefix");

  private GatewayApiSchema() {
  }

  /** Returns what the HTTPRoute CRD schema refuses in {@code route}; empty when nothing. */
  static List<String> problems(HTTPRoute route) {
    List<String> problems = new ArrayList<>();
    if (route.getSpec() == null) {
      return problems;
    }
    var spec = route.getSpec();
    maxItems(problems, "spec.parentRefs", spec.getParentRefs(), MAX_PARENT_REFS);
    if (spec.getHostnames() != null) {
      maxItems(problems, "spec.hostnames", spec.getHostnames(), MAX_HOSTNAMES);
      for (int i = 0; i < spec.getHostnames().size(); i++) {
        hostname(problems, "spec.hostnames[" + i + "]", spec.getHostnames().get(i));
      }
    }
    List<HTTPRouteRule> rules = spec.getRules();
    if (rules == null) {
      return problems;
    }
    maxItems(problems, "spec.rules", rules, MAX_RULES);
    int totalMatches = 0;
    // Past the limit the rest is not looked at: the object is refused anyway, and a file with
    // 10,000 rules must not cost 10,000 rule checks.
    for (int r = 0; r < Math.min(rules.size(), MAX_RULES); r++) {
      HTTPRouteRule rule = rules.get(r);
      if (rule == null) {
        continue;
      }
      String at = "spec.rules[" + r + "]";
      if (rule.getName() != null) {
        sectionName(problems, at + ".name", rule.getName());
      }
      List<HTTPRouteMatch> matches = rule.getMatches();
      if (matches != null) {
        totalMatches += matches.size();
        maxItems(problems, at + ".matches", matches, MAX_MATCHES);
        for (int m = 0; m < Math.min(matches.size(), MAX_MATCHES); m++) {
          if (matches.get(m) != null) {
            match(problems, at + ".matches[" + m + "]", matches.get(m));
          }
        }
      }
      filters(problems, at + ".filters", rule.getFilters());
      List<HTTPBackendRef> refs = rule.getBackendRefs();
      if (refs != null) {
        maxItems(problems, at + ".backendRefs", refs, MAX_BACKEND_REFS);
        for (int b = 0; b < Math.min(refs.size(), MAX_BACKEND_REFS); b++) {
          HTTPBackendRef ref = refs.get(b);
          if (ref == null) {
            continue;
          }
          String refAt = at + ".backendRefs[" + b + "]";
          weightAndPort(problems, refAt, ref.getWeight(), ref.getPort());
          filters(problems, refAt + ".filters", ref.getFilters());
        }
      }
    }
    if (totalMatches > MAX_TOTAL_MATCHES) {
      problems.add("spec.rules: Invalid value: " + totalMatches + " matches: While 16 rules and"
          + " 64 matches per rule are allowed, the total number of matches across all rules in"
          + " a route must be less than " + MAX_TOTAL_MATCHES);
    }
    return problems;
  }

  /** Returns what the Gateway CRD schema refuses in {@code gateway} (beyond ObjectValidation's). */
  static List<String> problems(Gateway gateway) {
    List<String> problems = new ArrayList<>();
    if (gateway.getSpec() == null) {
      return problems;
    }
    maxItems(problems, "spec.addresses", gateway.getSpec().getAddresses(), MAX_ADDRESSES);
    listeners(problems, gateway.getSpec().getListeners());
    return problems;
  }

  /**
   * Returns what the ListenerSet CRD schema refuses in {@code listenerSet}: its listeners have
   * the Gateway's limits (at most 64, names, hostnames, certificateRefs, route kinds).
   */
  static List<String> problems(ListenerSet listenerSet) {
    List<String> problems = new ArrayList<>();
    if (listenerSet.getSpec() == null) {
      return problems;
    }
    if (listenerSet.getSpec().getListeners() != null) {
      listeners(problems, ListenerEntries.listeners(listenerSet));
    }
    return problems;
  }

  private static void listeners(List<String> problems, List<Listener> listeners) {
    if (listeners == null) {
      return;
    }
    maxItems(problems, "spec.listeners", listeners, MAX_LISTENERS);
    for (int i = 0; i < Math.min(listeners.size(), MAX_LISTENERS); i++) {
      Listener listener = listeners.get(i);
      if (listener == null) {
        continue;
      }
      String at = "spec.listeners[" + i + "]";
      if (listener.getName() != null && !listener.getName().isBlank()) {
        sectionName(problems, at + ".name", listener.getName());
      }
      if (listener.getHostname() != null) {
        hostname(problems, at + ".hostname", listener.getHostname());
      }
      if (listener.getTls() != null) {
        maxItems(problems, at + ".tls.certificateRefs", listener.getTls().getCertificateRefs(),
            MAX_CERTIFICATE_REFS);
      }
      if (listener.getAllowedRoutes() != null) {
        maxItems(problems, at + ".allowedRoutes.kinds", listener.getAllowedRoutes().getKinds(),
            MAX_ROUTE_KINDS);
      }
    }
  }

  private static void match(List<String> problems, String at, HTTPRouteMatch match) {
    HTTPPathMatch path = match.getPath();
    if (path != null) {
      String type = path.getType() == null ? "PathPrefix" : path.getType();
      enumValue(problems, at + ".path.type", type, PATH_TYPES);
      String value = path.getValue();
      if (value != null) {
        maxLength(problems, at + ".path.value", value, MAX_PATH_VALUE);
        if (PREFIX_OR_EXACT.contains(type)) {
          pathValue(problems, at + ".path", value);
        }
      }
    }
    if (match.getMethod() != null) {
      enumValue(problems, at + ".method", match.getMethod(), METHODS);
    }
    List<HTTPHeaderMatch> headers = match.getHeaders();
    if (headers != null) {
      maxItems(problems, at + ".headers", headers, MAX_HEADER_MATCHES);
      for (int h = 0; h < Math.min(headers.size(), MAX_HEADER_MATCHES); h++) {
        HTTPHeaderMatch header = headers.get(h);
        if (header == null) {
          continue;
        }
        String headerAt = at + ".headers[" + h + "]";
        if (header.getType() != null) {
          enumValue(problems, headerAt + ".type", header.getType(), VALUE_MATCH_TYPES);
        }
        headerName(problems, headerAt + ".name", header.getName());
        if (header.getValue() != null) {
          maxLength(problems, headerAt + ".value", header.getValue(),
              HttpSyntax.MAX_HEADER_VALUE);
        }
      }
    }
    List<HTTPQueryParamMatch> params = match.getQueryParams();
    if (params != null) {
      maxItems(problems, at + ".queryParams", params, MAX_QUERY_PARAM_MATCHES);
      for (int q = 0; q < Math.min(params.size(), MAX_QUERY_PARAM_MATCHES); q++) {
        HTTPQueryParamMatch param = params.get(q);
        if (param == null) {
          continue;
        }
        String paramAt = at + ".queryParams[" + q + "]";
        if (param.getType() != null) {
          enumValue(problems, paramAt + ".type", param.getType(), VALUE_MATCH_TYPES);
        }
        headerName(problems, paramAt + ".name", param.getName());
        if (param.getValue() != null) {
          maxLength(problems, paramAt + ".value", param.getValue(),
              HttpSyntax.MAX_HEADER_VALUE);
        }
      }
    }
  }

  /** The CEL rules on HTTPPathMatch for Exact and PathPrefix values. */
  private static void pathValue(List<String> problems, String at, String value) {
    String rule = null;
    if (!value.startsWith("/")) {
      rule = "value must be an absolute path and start with '/' when type one of ['Exact',"
          + " 'PathPrefix']";
    } else if (value.contains("//")) {
      rule = "must not contain '//' when type one of ['Exact', 'PathPrefix']";
    } else if (value.contains("/./") || value.contains("/../") || value.endsWith("/.")
        || value.endsWith("/..")) {
      rule = "must not contain '/./' or '/../' nor end with '/.' or '/..' when type one of"
          + " ['Exact', 'PathPrefix']";
    } else if (value.contains("%2f") || value.contains("%2F") || value.contains("#")) {
      rule = "must not contain '%2f', '%2F' or '#' when type one of ['Exact', 'PathPrefix']";
    }
    if (rule != null) {
      problems.add(at + ": Invalid value: \"" + value + "\": " + rule);
    }
  }

  private static void filters(List<String> problems, String at, List<HTTPRouteFilter> filters) {
    if (filters == null) {
      return;
    }
    maxItems(problems, at, filters, MAX_FILTERS);
    for (int f = 0; f < Math.min(filters.size(), MAX_FILTERS); f++) {
      HTTPRouteFilter filter = filters.get(f);
      if (filter == null) {
        continue;
      }
      if (filter.getType() == null) {
        problems.add(at + "[" + f + "].type: Required value");
      } else {
        enumValue(problems, at + "[" + f + "].type", filter.getType(), FILTER_TYPES);
      }
    }
  }

  /** A backendRef's weight (0-1000000) and port (1-65535), each when set. */
  static void weightAndPort(List<String> problems, String refAt, Integer weight, Integer port) {
    if (weight != null && (weight < 0 || weight > 1_000_000)) {
      problems.add(refAt + ".weight: Invalid value: " + weight
          + ": must be between 0 and 1000000");
    }
    if (port != null && (port < 1 || port > 65535)) {
      problems.add(refAt + ".port: Invalid value: " + port + ": must be between 1 and 65535");
    }
  }

  static void maxItems(List<String> problems, String at, List<?> items, int max) {
    if (items != null && items.size() > max) {
      problems.add(at + ": Too many: " + items.size() + ": must have at most " + max + " items");
    }
  }

  static void maxLength(List<String> problems, String at, String value, int max) {
    if (value.length() > max) {
      problems.add(at + ": Too long: may not be more than " + max + " bytes");
    }
  }

  static void enumValue(List<String> problems, String at, String value,
      List<String> allowed) {
    if (!allowed.contains(value)) {
      StringBuilder quoted = new StringBuilder();
      for (String a : allowed) {
        quoted.append(quoted.length() == 0 ? "" : ", ").append('"').append(a).append('"');
      }
      problems.add(at + ": Unsupported value: \"" + value + "\": supported values: " + quoted);
    }
  }

  static void hostname(List<String> problems, String at, String hostname) {
    if (hostname.isEmpty() || hostname.length() > MAX_HOSTNAME
        || !HOSTNAME.matcher(hostname).matches()) {
      problems.add(at + ": Invalid value: \"" + hostname + "\": must be a lower case DNS name"
          + " of at most " + MAX_HOSTNAME + " characters, optionally starting with '*.'"
          + " (Gateway API Hostname)");
    }
  }

  static void sectionName(List<String> problems, String at, String name) {
    if (name.length() > MAX_SECTION_NAME || !SECTION_NAME.matcher(name).matches()) {
      problems.add(at + ": Invalid value: \"" + name + "\": must be a DNS-1123 subdomain"
          + " (lower case letters, digits, '-' and '.') of at most " + MAX_SECTION_NAME
          + " characters (Gateway API SectionName)");
    }
  }

  static void headerName(List<String> problems, String at, String name) {
    if (name == null || name.isEmpty()) {
      problems.add(at + ": Required value");
    } else if (!HttpSyntax.isHeaderName(name)) {
      problems.add(at + ": Invalid value: \"" + name + "\": must be an HTTP token of at most "
          + HttpSyntax.MAX_HEADER_NAME + " characters");
    }
  }
}
