package io.portico.proxy;

import io.portico.ir.Cors;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/**
 * Applies a rule's {@link Cors} policy: the headers of the answer to a preflight request
 * (which the {@link Responder} gives without contacting a backend), and adds the CORS headers to responses for allowed origins. With credentials
 * allowed, {@code *} is never sent: browsers reject it, so the request's own origin, method and
 * headers are echoed instead.
 */
final class CorsPolicy {

  private CorsPolicy() {
  }

  /** Whether {@code request} is a CORS preflight (the {@link Responder} answers it). */
  static boolean isPreflight(HttpServerRequest request) {
    MultiMap headers = request.headers();
    return request.method() == HttpMethod.OPTIONS && headers.contains(HttpHeaders.ORIGIN)
        && headers.contains(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD);
  }

  /** Adds the headers of the answer to the preflight {@code request} to {@code out}. */
  static void addPreflightHeaders(HttpServerRequest request, MultiMap out, Cors cors) {
    MultiMap headers = request.headers();
    String origin = headers.get(HttpHeaders.ORIGIN);
    String requestedMethod = headers.get(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD);
    out.add(HttpHeaders.VARY, "Origin");
    if (!cors.allows(origin)) {
      return;
    }
    allowOrigin(out, cors, origin);
    out.set(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS,
        wildcardOrList(cors.allowMethods(), cors.allowCredentials(), requestedMethod));
    String requestedHeaders = headers.get(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS);
    if (!cors.allowHeaders().isEmpty()) {
      out.set(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, wildcardOrList(cors.allowHeaders(),
          cors.allowCredentials(), requestedHeaders == null ? "*" : requestedHeaders));
    }
    if (!cors.exposeHeaders().isEmpty()) {
      out.set(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, String.join(", ", cors.exposeHeaders()));
    }
    out.set(HttpHeaders.ACCESS_CONTROL_MAX_AGE, Integer.toString(cors.maxAgeSeconds()));
  }

  /** Adds the CORS response headers for an allowed origin to a forwarded response. */
  static void addResponseHeaders(HttpServerRequest request, MultiMap out, Cors cors) {
    String origin = request.headers().get(HttpHeaders.ORIGIN);
    out.add(HttpHeaders.VARY, "Origin");
    if (!cors.allows(origin)) {
      return;
    }
    allowOrigin(out, cors, origin);
    if (!cors.exposeHeaders().isEmpty()) {
      out.set(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, String.join(", ", cors.exposeHeaders()));
    }
  }

  private static void allowOrigin(MultiMap out, Cors cors, String origin) {
    boolean any = cors.allowOrigins().contains("*");
    out.set(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, any && !cors.allowCredentials() ? "*" : origin);
    if (cors.allowCredentials()) {
      out.set(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
    }
  }

  private static String wildcardOrList(java.util.List<String> allowed, boolean credentials,
      String requested) {
    if (allowed.contains("*")) {
      return credentials ? requested : "*";
    }
    return String.join(", ", allowed);
  }
}
