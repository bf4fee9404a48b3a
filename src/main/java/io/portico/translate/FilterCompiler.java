package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPCORSFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeader;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathModifier;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRequestRedirectFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPURLRewriteFilter;
import io.portico.ir.Cors;
import io.portico.ir.Filters;
import io.portico.ir.HeaderModifier;
import io.portico.ir.Mirror;
import io.portico.ir.PathModifier;
import io.portico.ir.Redirect;
import io.portico.ir.UrlRewrite;
import io.portico.resource.HttpSyntax;
import io.portico.status.Conditions;
import io.portico.translate.RuleCompiler.InvalidRule;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Compiles the Gateway API filters of a rule, or of one of its backendRefs, into
 * {@link Filters}, enforcing what the Gateway API's CRD validation enforces in a cluster (a
 * standalone configuration never went through it): each filter type at most once,
 * RequestRedirect and URLRewrite not together, ReplacePrefixMatch only with exactly one
 * PathPrefix match, valid header names and values, hostnames, ports and status codes.
 */
final class FilterCompiler {

  /** Gateway API PreciseHostname: lower-case DNS labels, no wildcard. */
  private static final Pattern PRECISE_HOSTNAME =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** A CORS origin: scheme://host[:port], maybe '*.' first; no space or control character. */
  private static final Pattern CORS_ORIGIN =
      Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]*://(\\*\\.)?[^*/\\s\\x00-\\x1F\\x7F]+");
  /** The methods a CORS filter may allow (Gateway API HTTPMethodWithWildcard). */
  private static final List<String> CORS_METHODS = Stream.concat(
      HttpSyntax.METHODS.stream(), Stream.of("*")).toList();
  private static final int MAX_HOSTNAME = 253;
  private static final int MAX_PATH = 1024;

  private FilterCompiler() {
  }

  /**
   * Returns the message naming the first ExtensionRef filter of {@code specs}, or null when
   * there is none. Portico implements no extension filter, and the Gateway API says such a
   * filter "MUST NOT be skipped": the requests it would process are answered 500 instead, and
   * the route reports {@code ResolvedRefs=False InvalidKind}.
   *
   * @param where names the filter list, e.g. {@code rule 2} or {@code rule 2 backendRefs[0]}
   * @param types the filters' types, in order
   * @param refs the filters' extensionRef, in order (null where unset)
   */
  static String extensionRef(String where, List<String> types,
      List<io.fabric8.kubernetes.api.model.gatewayapi.v1.LocalObjectReference> refs) {
    for (int i = 0; i < types.size(); i++) {
      if ("ExtensionRef".equals(types.get(i))) {
        var ref = refs.get(i);
        String target = ref == null ? "(no extensionRef)" : (ref.getGroup() == null
            || ref.getGroup().isEmpty() ? "" : ref.getGroup() + "/") + ref.getKind() + " "
            + ref.getName();
        return where + " filters[" + i + "] (ExtensionRef): " + target + " is not supported"
            + " (Portico implements no extension filter); the requests it would process are"
            + " answered 500";
      }
    }
    return null;
  }

  /** {@link #extensionRef(String, List, List)} of an HTTPRoute filter list. */
  static String extensionRef(String where, List<HTTPRouteFilter> specs) {
    if (specs == null) {
      return null;
    }
    return extensionRef(where, specs.stream().map(HTTPRouteFilter::getType).toList(),
        specs.stream().map(HTTPRouteFilter::getExtensionRef).toList());
  }

  /**
   * Returns the backend standing for an unsupported ExtensionRef filter: 500 for its share of
   * traffic, counted in the route's ResolvedRefs as InvalidKind.
   */
  static BackendRefResolver.Resolution unsupportedExtension(String name, int weight,
      String message) {
    return new BackendRefResolver.Resolution(
        io.portico.ir.WeightedBackend.unavailable(name, weight, 500, message),
        Conditions.REASON_INVALID_KIND, message);
  }

  /**
   * Compiles {@code specs} (null or empty: {@link Filters#NONE}).
   *
   * @param where names the filter list in messages, e.g. {@code rule 2} or
   *     {@code rule 2 backendRefs[0]}
   * @param rule the rule the filters belong to (its matches decide whether ReplacePrefixMatch
   *     may be used)
   */
  static Filters compile(String where, List<HTTPRouteFilter> specs, HTTPRouteRule rule,
      MirrorResolver mirrorResolver) throws InvalidRule {
    if (specs == null || specs.isEmpty()) {
      return Filters.NONE;
    }
    HeaderModifier requestHeaders = null;
    HeaderModifier responseHeaders = null;
    Redirect redirect = null;
    UrlRewrite urlRewrite = null;
    List<Mirror> mirrors = new ArrayList<>();
    Cors cors = null;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < specs.size(); i++) {
      HTTPRouteFilter spec = specs.get(i);
      String type = spec.getType();
      String at = where + " filters[" + i + "] (" + type + ")";
      if (type == null) {
        throw new InvalidRule(where + " filters[" + i + "]: type is required");
      }
      // Several mirrors are allowed (GEP-3171); other filter types once per list.
      if (!type.equals("RequestMirror") && !seen.add(type)) {
        throw new InvalidRule(at + ": a filter type may be used once per list");
      }
      switch (type) {
        case "RequestHeaderModifier":
          requestHeaders = headers(at, spec.getRequestHeaderModifier(), "requestHeaderModifier",
              true);
          break;
        case "ResponseHeaderModifier":
          responseHeaders = headers(at, spec.getResponseHeaderModifier(), "responseHeaderModifier",
              false);
          break;
        case "RequestRedirect":
          redirect = redirect(at, spec.getRequestRedirect(), rule);
          break;
        case "URLRewrite":
          urlRewrite = urlRewrite(at, spec.getUrlRewrite(), rule);
          break;
        case "RequestMirror":
          mirrors.add(mirrorResolver.resolve(at, mirrors.size(), spec.getRequestMirror()));
          break;
        case "CORS":
          cors = cors(at, spec.getCors());
          break;
        case "ExternalAuth":
        case "ExtensionRef":
          throw new InvalidRule(where + " filters[" + i + "]: filter type " + type
              + " is not supported yet");
        default:
          throw new InvalidRule(where + " filters[" + i + "]: filter type " + type
              + " is not supported (supported: RequestHeaderModifier, ResponseHeaderModifier, "
              + "RequestRedirect, URLRewrite, RequestMirror, CORS)");
      }
    }
    if (redirect != null && urlRewrite != null) {
      throw new InvalidRule(Conditions.REASON_INCOMPATIBLE_FILTERS,
          where + ": filters RequestRedirect and URLRewrite cannot be combined "
          + "(a redirected request is never forwarded, so there is nothing to rewrite)");
    }
    return Filters.of(requestHeaders, responseHeaders, redirect, urlRewrite, mirrors, cors);
  }

  private static Cors cors(String at, HTTPCORSFilter spec) throws InvalidRule {
    if (spec == null) {
      throw new InvalidRule(at + ": cors is required");
    }
    List<String> origins = list(spec.getAllowOrigins());
    for (String origin : origins) {
      if (origin == null
          || !origin.equals("*") && !CORS_ORIGIN.matcher(origin).matches()) {
        throw new InvalidRule(at + ": allowOrigins '" + origin
            + "' is not '*' or scheme://host[:port] (a leading '*.' label allowed)");
      }
    }
    List<String> methods = list(spec.getAllowMethods());
    for (String method : methods) {
      if (!CORS_METHODS.contains(method)) {
        throw new InvalidRule(at + ": allowMethods '" + method + "' is not one of "
            + String.join(", ", CORS_METHODS));
      }
    }
    // Sent as header values (Access-Control-Allow-Headers, -Expose-Headers): a name outside
    // the schema's pattern, a line break say, would fail every preflight or answer.
    List<String> allowHeaders = list(spec.getAllowHeaders());
    List<String> exposeHeaders = list(spec.getExposeHeaders());
    for (String name : allowHeaders) {
      checkCorsHeader(at, "allowHeaders", name);
    }
    for (String name : exposeHeaders) {
      checkCorsHeader(at, "exposeHeaders", name);
    }
    int maxAge = spec.getMaxAge() == null ? 5 : spec.getMaxAge();
    if (maxAge < 0) {
      throw new InvalidRule(at + ": maxAge " + maxAge + " (expected: >= 0)");
    }
    return new Cors(origins, methods, allowHeaders, exposeHeaders,
        Boolean.TRUE.equals(spec.getAllowCredentials()), maxAge);
  }

  private static void checkCorsHeader(String at, String field, String name) throws InvalidRule {
    if (!HttpSyntax.isHeaderName(name)) {
      throw new InvalidRule(at + ": " + field + " '" + name
          + "' is not a header name (letters, digits and !#$%&'*+-.^_`|~; at most "
          + HttpSyntax.MAX_HEADER_NAME + ")");
    }
  }

  private static List<String> list(List<String> values) {
    return values == null ? List.of() : values;
  }

  private static HeaderModifier headers(String at, HTTPHeaderFilter spec, String field,
      boolean request) throws InvalidRule {
    if (spec == null) {
      throw new InvalidRule(at + ": " + field + " is required");
    }
    List<HeaderModifier.Header> set = headerList(at + " set", spec.getSet(), request);
    List<HeaderModifier.Header> add = headerList(at + " add", spec.getAdd(), request);
    List<String> remove = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    if (spec.getRemove() != null) {
      for (String name : spec.getRemove()) {
        checkName(at + " remove", name, request);
        if (seen.add(name.toLowerCase(Locale.ROOT))) {
          remove.add(name);
        }
      }
    }
    return new HeaderModifier(set, add, remove);
  }

  /** Gateway API HTTPHeader: of entries with equivalent names only the first counts. */
  private static List<HeaderModifier.Header> headerList(String at, List<HTTPHeader> specs,
      boolean request) throws InvalidRule {
    List<HeaderModifier.Header> headers = new ArrayList<>();
    if (specs == null) {
      return headers;
    }
    Set<String> seen = new HashSet<>();
    for (HTTPHeader spec : specs) {
      String name = spec.getName();
      checkName(at, name, request);
      String value = spec.getValue() == null ? "" : spec.getValue();
      if (value.length() > HttpSyntax.MAX_HEADER_VALUE) {
        throw new InvalidRule(at + ": the value of header " + name + " is longer than "
            + HttpSyntax.MAX_HEADER_VALUE + " characters");
      }
      for (int c = 0; c < value.length(); c++) {
        char ch = value.charAt(c);
        // RFC 9110 field values: visible characters, spaces and tabs. Vert.x refuses the
        // others when the header is set on a request or answer, so a value with one would fail
        // every request the rule matched.
        if (ch < 0x20 && ch != '\t' || ch == 0x7F) {
          throw new InvalidRule(at + ": the value of header " + name
              + " contains the control character 0x" + String.format("%02X", (int) ch)
              + " (a line break, NUL, DEL or another)");
        }
      }
      if (seen.add(name.toLowerCase(Locale.ROOT))) {
        headers.add(new HeaderModifier.Header(name, value));
      }
    }
    return headers;
  }

  private static void checkName(String at, String name, boolean request) throws InvalidRule {
    if (name == null || !HttpSyntax.HEADER_NAME.matcher(name).matches()) {
      throw new InvalidRule(at + ": '" + name + "' is not a valid header name");
    }
    String lower = name.toLowerCase(Locale.ROOT);
    if (request && lower.equals("host")) {
      throw new InvalidRule(at + ": header Host cannot be modified here; use a URLRewrite "
          + "filter with a hostname");
    }
    // Framing and connection management belong to each hop; changing them would break the
    // message rather than modify it.
    switch (lower) {
      case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
          "upgrade", "content-length" ->
          throw new InvalidRule(at + ": header " + name + " cannot be modified (it describes "
              + "the connection or the message framing)");
      default -> {
      }
    }
  }

  private static Redirect redirect(String at, HTTPRequestRedirectFilter spec, HTTPRouteRule rule)
      throws InvalidRule {
    if (spec == null) {
      throw new InvalidRule(at + ": requestRedirect is required");
    }
    String scheme = spec.getScheme();
    if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
      throw new InvalidRule(at + ": scheme '" + scheme + "' is not supported (http or https)");
    }
    String hostname = hostname(at, spec.getHostname());
    Integer port = spec.getPort();
    if (port != null && (port < 1 || port > 65535)) {
      throw new InvalidRule(at + ": port " + port + " is not between 1 and 65535");
    }
    // The CRD's default is 302 (conformance HTTPRouteRedirectHostAndStatus expects it).
    int status = spec.getStatusCode() == null ? 302 : spec.getStatusCode();
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308) {
      throw new InvalidRule(at + ": statusCode " + status
          + " is not supported (301, 302, 303, 307 or 308)");
    }
    PathModifier path = path(at, spec.getPath(), rule);
    return new Redirect(scheme, hostname, port, path, status);
  }

  private static UrlRewrite urlRewrite(String at, HTTPURLRewriteFilter spec, HTTPRouteRule rule)
      throws InvalidRule {
    if (spec == null) {
      throw new InvalidRule(at + ": urlRewrite is required");
    }
    String hostname = hostname(at, spec.getHostname());
    PathModifier path = path(at, spec.getPath(), rule);
    if (hostname == null && path == null) {
      return null; // Rewrites nothing.
    }
    return new UrlRewrite(hostname, path);
  }

  private static String hostname(String at, String hostname) throws InvalidRule {
    if (hostname == null || hostname.isEmpty()) {
      return null;
    }
    if (hostname.length() > MAX_HOSTNAME || !PRECISE_HOSTNAME.matcher(hostname).matches()) {
      throw new InvalidRule(at + ": hostname '" + hostname + "' is not a valid host name "
          + "(lower-case DNS labels, no wildcard, no port)");
    }
    return hostname;
  }

  private static PathModifier path(String at, HTTPPathModifier spec, HTTPRouteRule rule)
      throws InvalidRule {
    if (spec == null) {
      return null;
    }
    String type = spec.getType();
    if ("ReplaceFullPath".equals(type)) {
      String value = spec.getReplaceFullPath();
      if (value == null) {
        throw new InvalidRule(at + ": path.replaceFullPath is required for type ReplaceFullPath");
      }
      checkPath(at + " path.replaceFullPath", value, false);
      return PathModifier.replaceFullPath(value);
    }
    if ("ReplacePrefixMatch".equals(type)) {
      String value = spec.getReplacePrefixMatch();
      if (value == null) {
        throw new InvalidRule(at + ": path.replacePrefixMatch is required for type "
            + "ReplacePrefixMatch");
      }
      checkPath(at + " path.replacePrefixMatch", value, true);
      if (!hasExactlyOnePrefixMatch(rule)) {
        throw new InvalidRule(at + ": path type ReplacePrefixMatch needs the rule to have "
            + "exactly one match, of type PathPrefix (it replaces the matched prefix)");
      }
      return PathModifier.replacePrefixMatch(value);
    }
    throw new InvalidRule(at + ": path type " + type
        + " is not supported (ReplaceFullPath or ReplacePrefixMatch)");
  }

  private static void checkPath(String at, String value, boolean mayBeEmpty) throws InvalidRule {
    if (value.isEmpty() && mayBeEmpty) {
      return;
    }
    if (!value.startsWith("/")) {
      throw new InvalidRule(at + ": '" + value + "' must start with '/'");
    }
    if (value.length() > MAX_PATH) {
      throw new InvalidRule(at + ": longer than " + MAX_PATH + " characters");
    }
    for (int c = 0; c < value.length(); c++) {
      char ch = value.charAt(c);
      if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#') {
        throw new InvalidRule(at + ": '" + value
            + "' must be a path without spaces, control characters, '?' or '#'");
      }
    }
  }

  /** The CRD rule: the default (no matches) counts as one PathPrefix "/" match. */
  private static boolean hasExactlyOnePrefixMatch(HTTPRouteRule rule) {
    List<HTTPRouteMatch> matches = rule.getMatches();
    if (matches == null || matches.isEmpty()) {
      return true;
    }
    if (matches.size() != 1) {
      return false;
    }
    HTTPRouteMatch match = matches.get(0);
    return match.getPath() == null || match.getPath().getType() == null
        || match.getPath().getType().equals("PathPrefix");
  }
}
