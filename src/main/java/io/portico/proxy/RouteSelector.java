package io.portico.proxy;

import io.portico.ir.HeaderMatch;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.QueryParamMatch;
import io.portico.ir.Route;
import io.portico.ir.RouteMatch;
import io.portico.ir.VirtualHost;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;

/**
 * Selects the route for a request on the listener its host chose (isolation, see
 * {@link HttpPort#findListener}): the virtual host by host, then the first route in precedence
 * order whose match holds.
 */
final class RouteSelector {

  private RouteSelector() {
  }

  /**
   * Returns the route of {@code listener} (the one {@link HttpPort#findListener} chose for the
   * host) for the request, or null for a 404.
   *
   * @param host the request host without port
   * @param path the normalized request path without query
   */
  static Route select(Listener listener, HttpServerRequest request, String host, String path) {
    VirtualHost virtualHost = listener.findVirtualHost(host);
    if (virtualHost == null) {
      return null;
    }
    List<Route> routes = virtualHost.routes();
    for (int i = 0, n = routes.size(); i < n; i++) {
      Route route = routes.get(i);
      if (matches(route.match(), request, path)) {
        return route;
      }
    }
    return null;
  }

  static boolean matches(RouteMatch match, HttpServerRequest request, String path) {
    if (!match.path().matches(path)) {
      return false;
    }
    if (match.method() != null && !match.method().equals(request.method().name())) {
      return false;
    }
    List<HeaderMatch> headers = match.headers();
    for (int i = 0, n = headers.size(); i < n; i++) {
      HeaderMatch header = headers.get(i);
      if (!header.matches(headerValue(request, header.name()))) {
        return false;
      }
    }
    List<QueryParamMatch> params = match.queryParams();
    for (int i = 0, n = params.size(); i < n; i++) {
      QueryParamMatch param = params.get(i);
      if (!param.matches(request.getParam(param.name()))) {
        return false;
      }
    }
    return true;
  }

  /** A repeated header is compared as its values joined with "," (RFC 9110 field combination). */
  private static String headerValue(HttpServerRequest request, String name) {
    List<String> values = request.headers().getAll(name);
    if (values.isEmpty()) {
      return null;
    }
    return values.size() == 1 ? values.get(0) : String.join(",", values);
  }
}
