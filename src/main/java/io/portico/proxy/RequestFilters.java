package io.portico.proxy;

import io.portico.ir.Filters;
import io.portico.ir.HeaderModifier;
import io.portico.ir.PathModifier;
import io.portico.ir.Route;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;

import java.util.List;

/**
 * Applies the Gateway API filters of the selected rule and of the picked backendRef to one
 * request (redirects are answered by the {@link Responder}): the rewritten URI and Host sent
 * upstream, and request and response header changes. The rule's filters apply first, then the
 * backendRef's; for a URL rewrite the backendRef's hostname and path win over the rule's.
 *
 * <p>Called on every request: with {@link Filters#NONE} on both levels each method returns
 * after comparing references and allocates nothing.
 */
final class RequestFilters {

  private RequestFilters() {
  }

  /** Returns the request URI for the upstream: the path, rewritten if asked, and the query. */
  static String upstreamUri(HttpServerRequest request, String path, Route route, Filters backend) {
    PathModifier rewrite = null;
    if (backend.urlRewrite() != null) {
      rewrite = backend.urlRewrite().path();
    }
    if (rewrite == null && route.filters().urlRewrite() != null) {
      rewrite = route.filters().urlRewrite().path();
    }
    String upstreamPath = rewrite == null ? path : rewrite.apply(path, route.match().path());
    String query = request.query();
    return query == null ? upstreamPath : upstreamPath + "?" + query;
  }

  /** Returns the authority (Host) to send upstream: the client's unless a rewrite changes it. */
  static HostAndPort upstreamAuthority(HostAndPort authority, Route route, Filters backend) {
    String hostname = null;
    if (backend.urlRewrite() != null) {
      hostname = backend.urlRewrite().hostname();
    }
    if (hostname == null && route.filters().urlRewrite() != null) {
      hostname = route.filters().urlRewrite().hostname();
    }
    return hostname == null ? authority : HostAndPort.authority(hostname);
  }

  /** Applies the RequestHeaderModifiers to the headers about to be sent upstream. */
  static void modifyRequestHeaders(MultiMap headers, Filters rule, Filters backend) {
    if (rule.requestHeaders() != null) {
      apply(headers, rule.requestHeaders());
    }
    if (backend.requestHeaders() != null) {
      apply(headers, backend.requestHeaders());
    }
  }

  /** Applies the ResponseHeaderModifiers to the headers about to be sent to the client. */
  static void modifyResponseHeaders(MultiMap headers, Filters rule, Filters backend) {
    if (rule.responseHeaders() != null) {
      apply(headers, rule.responseHeaders());
    }
    if (backend.responseHeaders() != null) {
      apply(headers, backend.responseHeaders());
    }
  }

  /** Remove, then set, then add; {@code headers} compares names case-insensitively. */
  static void apply(MultiMap headers, HeaderModifier modifier) {
    List<String> remove = modifier.remove();
    for (int i = 0, n = remove.size(); i < n; i++) {
      headers.remove(remove.get(i));
    }
    List<HeaderModifier.Header> set = modifier.set();
    for (int i = 0, n = set.size(); i < n; i++) {
      HeaderModifier.Header header = set.get(i);
      headers.set(header.name(), header.value());
    }
    List<HeaderModifier.Header> add = modifier.add();
    for (int i = 0, n = add.size(); i < n; i++) {
      HeaderModifier.Header header = add.get(i);
      headers.add(header.name(), header.value());
    }
  }
}
