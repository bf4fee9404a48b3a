package io.portico.proxy;

import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays an upstream answer to the client with back-pressure: its status, its headers without
 * the hop-by-hop ones and as the route's filters (see {@link RequestFilters}) and CORS policy
 * change them, its body and its trailers.
 */
final class ResponseRelay {

  private static final Logger LOG = LoggerFactory.getLogger(ResponseRelay.class);

  private final ProxyMetrics metrics;

  ResponseRelay(ProxyMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Relays {@code upstream}, the answer {@code endpoint} gave to {@code exchange}, and finishes
   * the exchange when it ends or fails; drops it when the client's response is already closed
   * or ended.
   */
  void relay(UpstreamExchange exchange, HttpClientResponse upstream, Endpoint endpoint) {
    HttpServerRequest request = exchange.request;
    Filters ruleFilters = exchange.call.ruleFilters();
    Filters backendFilters = exchange.call.backendFilters();
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      // The client left, or the rule's request timeout already answered 504.
      upstream.exceptionHandler(e -> { }); // The reset below is ours: nothing to report.
      upstream.request().reset();
      exchange.finish();
      return;
    }
    metrics.forwarded(upstream.statusCode());
    response.setStatusCode(upstream.statusCode());
    String reason = upstream.statusMessage();
    if (request.version() != HttpVersion.HTTP_2 && reason != null
        && !reason.equals(HttpResponseStatus.valueOf(upstream.statusCode()).reasonPhrase())) {
      // Only a reason phrase of the upstream's own: setting one makes a status object each time.
      response.setStatusMessage(reason);
    }
    HopByHopHeaders.copy(upstream.headers(), response.headers(), null);
    RequestFilters.modifyResponseHeaders(response.headers(), ruleFilters, backendFilters);
    if (ruleFilters.cors() != null) {
      CorsPolicy.addResponseHeaders(request, response.headers(), ruleFilters.cors());
    }
    if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && request.version() != HttpVersion.HTTP_2
        && mayHaveBody(request.method(), upstream.statusCode())) {
      response.setChunked(true);
    }
    upstream.exceptionHandler(e -> {
      LOG.debug("upstream {} failed mid-response: {}", endpoint, e.toString());
      exchange.finish();
      response.reset();
    });
    // Piped by hand rather than with send(): trailers (gRPC status, chunked trailers) must be
    // copied after the body and before the end.
    upstream.handler(chunk -> {
      response.write(chunk);
      if (response.writeQueueFull()) {
        upstream.pause();
        response.drainHandler(v -> upstream.resume());
      }
    });
    upstream.endHandler(v -> {
      if (!upstream.trailers().isEmpty()) {
        if (request.version() != HttpVersion.HTTP_2 && !response.isChunked()) {
          // HTTP/1.1 carries trailers only in a chunked body.
          if (!response.headWritten()) {
            response.headers().remove(HttpHeaders.CONTENT_LENGTH);
            response.setChunked(true);
          }
        }
        if (response.isChunked() || request.version() == HttpVersion.HTTP_2) {
          HopByHopHeaders.copy(upstream.trailers(), response.trailers(), null);
        }
      }
      exchange.finish();
      response.end();
    });
    response.closeHandler(v -> {
      exchange.finish();
      upstream.request().reset();
    });
  }

  private static boolean mayHaveBody(HttpMethod method, int status) {
    return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
  }
}
