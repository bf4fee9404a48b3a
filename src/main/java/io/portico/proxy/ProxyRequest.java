package io.portico.proxy;

import io.portico.ir.BackendGroup;
import io.portico.ir.Filters;
import io.portico.ir.Route;
import io.portico.ir.UpstreamPlan;
import io.portico.ir.WeightedBackend;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

/**
 * One request past route selection and backend pick: what forwarding, mirroring and relaying
 * read, computed once. Immutable (the server request it wraps is the only live part).
 *
 * @param request the client's request, paused until it is forwarded or answered
 * @param route the selected route; its rule's filters apply
 * @param backend the picked backendRef; its filters apply after the rule's
 * @param authority the client's authority, for X-Forwarded-Host
 * @param upstreamUri the URI sent upstream: the normalized path, rewritten if a filter says so,
 *     and the query
 * @param upstreamAuthority the authority (Host) sent upstream, rewritten if a filter says so
 * @param hasBody whether the request has a body (it is then streamed, and never re-sent)
 */
record ProxyRequest(HttpServerRequest request, Route route, WeightedBackend backend,
    HostAndPort authority, String upstreamUri, HostAndPort upstreamAuthority, boolean hasBody) {

  /**
   * Resolves what the request sends upstream on {@code route} through {@code backend}.
   *
   * @param path the normalized request path
   */
  static ProxyRequest of(HttpServerRequest request, Route route, WeightedBackend backend,
      String path, HostAndPort authority) {
    Filters backendFilters = backend.filters();
    String uri;
    HostAndPort upstreamAuthority;
    if (route.filters().urlRewrite() == null && backendFilters.urlRewrite() == null) {
      String query = request.query();
      uri = query == null ? path : path + "?" + query;
      upstreamAuthority = authority;
    } else {
      uri = RequestFilters.upstreamUri(request, path, route, backendFilters);
      upstreamAuthority = RequestFilters.upstreamAuthority(authority, route, backendFilters);
    }
    return new ProxyRequest(request, route, backend, authority, uri, upstreamAuthority,
        hasBody(request));
  }

  /** The rule: its backends, load balancing and session persistence. */
  BackendGroup group() {
    return route.backends();
  }

  /** How the rule's requests travel upstream. */
  UpstreamPlan plan() {
    return route.backends().plan();
  }

  Filters ruleFilters() {
    return route.filters();
  }

  Filters backendFilters() {
    return backend.filters();
  }

  /**
   * HTTP/1.x messages have a body when they say so; HTTP/2 ones unless their HEADERS frame
   * ended the stream (see {@link Http2EndOfStream}).
   */
  private static boolean hasBody(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      return !Http2EndOfStream.ended(request);
    }
    MultiMap headers = request.headers();
    String length = headers.get(HttpHeaders.CONTENT_LENGTH);
    return length != null && !length.equals("0") || headers.contains(HttpHeaders.TRANSFER_ENCODING);
  }
}
