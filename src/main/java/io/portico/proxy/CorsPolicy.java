package io.portico.proxy;

import io.portico.ir.Cors;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * Applies a rule's {@link Cors} policy: answers preflight requests without contacting a
 * backend, and adds the CORS headers to responses for allowed origins. With credentials
 * allowed, {@code *} is never sent: browsers reject it, so the request's own origin, method and
 * headers are echoed instead.
 */
final class CorsPolicy {

  private CorsPolicy() {
  }

  /** Answers {@code request} if it is a CORS preflight; returns whether it did. */
  static boolean answerPreflight(HttpServerRequest request, Cors cors) {
    MultiMap headers = request.headers();
    String origin = headers.get(HttpHeaders.ORIGIN);
    String requestedMethod = headers.get(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD);
    if (request.method() != HttpMethod.OPTIONS || origin == null || requestedMethod == null) {
      return false;
    }
    request.resume();
    HttpServerResponse response = request.response().setStatusCode(204);
    MultiMap out = response.headers();
    out.add(HttpHeaders.VARY, "Origin");
    if (cors.allows(origin)) {
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
    response.end();
    return true;
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
