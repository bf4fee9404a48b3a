package io.portico.ir;

import java.util.List;
import java.util.Objects;

/**
 * The routes served for one host name pattern on one listener.
 *
 * @param hostname an exact name ({@code app.example.com}), a wildcard ({@code *.example.com},
 *     one or more labels) or {@code *} for any host
 * @param routes the routes whose hostnames intersect this one, sorted by the Gateway API's
 *     precedence; the first route that matches a request wins
 */
public record VirtualHost(String hostname, List<Route> routes) {

  public VirtualHost {
    Objects.requireNonNull(hostname, "hostname");
    routes = List.copyOf(routes);
  }
}
