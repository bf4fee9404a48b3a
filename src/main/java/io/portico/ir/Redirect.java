package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Answers a request with a redirect instead of forwarding it. Gateway API
 * {@code HTTPRequestRedirectFilter}: every field left unset keeps that part of the request.
 *
 * @param scheme {@code http} or {@code https}; null keeps the request's scheme
 * @param hostname the host of the Location; null keeps the request's Host (without its port)
 * @param port the port of the Location; null derives it as the spec says: the scheme's
 *     well-known port when {@code scheme} is set, otherwise the Gateway listener port
 * @param path how the path changes; null keeps the request path
 * @param statusCode 301, 302, 303, 307 or 308 (the Gateway API's default is 302)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Redirect(String scheme, String hostname, Integer port, PathModifier path,
    int statusCode) {

  public Redirect {
    if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException("scheme: " + scheme + " (expected: http or https)");
    }
    if (port != null && (port < 1 || port > 65535)) {
      throw new IllegalArgumentException("port: " + port + " (expected: 1-65535)");
    }
    if (statusCode != 301 && statusCode != 302 && statusCode != 303 && statusCode != 307
        && statusCode != 308) {
      throw new IllegalArgumentException("statusCode: " + statusCode
          + " (expected: 301, 302, 303, 307 or 308)");
    }
  }

  /**
   * Returns the absolute Location for a request. The port is left out when it is the default of
   * the Location's scheme (80 for http, 443 for https), as the spec asks.
   *
   * @param requestScheme {@code http} or {@code https}, how the request arrived
   * @param requestHost the request's host name, without port
   * @param listenerPort the port of the Gateway listener that took the request, as written in
   *     the Gateway
   * @param requestPath the normalized request path, without query string
   * @param query the raw query string without "?", or null; it is kept
   * @param match the path match of the selected route (for a prefix replacement)
   */
  public String location(String requestScheme, String requestHost, int listenerPort,
      String requestPath, String query, PathMatch match) {
    String locationScheme = scheme != null ? scheme : requestScheme;
    int locationPort;
    if (port != null) {
      locationPort = port;
    } else if (scheme != null) {
      locationPort = defaultPort(scheme);
    } else {
      locationPort = listenerPort;
    }
    String host = hostname != null ? hostname : requestHost;
    String newPath = path == null ? requestPath : path.apply(requestPath, match);
    StringBuilder location = new StringBuilder(locationScheme.length() + host.length()
        + newPath.length() + (query == null ? 0 : query.length()) + 16);
    location.append(locationScheme).append("://");
    if (host.indexOf(':') >= 0 && host.charAt(0) != '[') {
      location.append('[').append(host).append(']'); // an IPv6 literal
    } else {
      location.append(host);
    }
    if (locationPort != defaultPort(locationScheme)) {
      location.append(':').append(locationPort);
    }
    location.append(newPath);
    if (query != null) {
      location.append('?').append(query);
    }
    return location.toString();
  }

  private static int defaultPort(String scheme) {
    return scheme.equals("https") ? 443 : 80;
  }
}
