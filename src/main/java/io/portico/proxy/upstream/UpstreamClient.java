package io.portico.proxy.upstream;

import io.portico.ir.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;

/**
 * Opens one attempt's request to an endpoint: a connection from the pool (or a new one), on the
 * event loop of the proxy verticle asking. See {@link UpstreamCall}.
 */
public interface UpstreamClient {

  /**
   * Returns the request, once it has a connection; fails when none could be had within
   * {@code connectTimeoutMillis} (refused, timed out, waiting for the pool).
   *
   * @param uri the request target sent upstream
   */
  Future<UpstreamCall> request(Endpoint endpoint, HttpMethod method, String uri,
      long connectTimeoutMillis);
}
