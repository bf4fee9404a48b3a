package io.portico.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Names every way a request can fail to get an upstream answer, with the status Portico answers
 * and the label used in access logs and metrics.
 */
public enum UpstreamFailure {
  /** No route matched the request (Gateway API: 404). */
  NO_ROUTE(404, "no_route"),
  /** The matched rule's backendRef is invalid (Gateway API: 500 for its share of traffic). */
  INVALID_BACKEND(500, "invalid_backend"),
  /** The backend exists but has no ready endpoint. */
  NO_ENDPOINTS(503, "no_endpoints"),
  /** The endpoint refused the connection. */
  CONNECT_REFUSED(502, "connect_refused"),
  /** The TLS handshake with the endpoint failed (BackendTLSPolicy: certificate not trusted, or
   * without the name the policy asks for). */
  UPSTREAM_TLS(502, "upstream_tls"),
  /** The BackendTLSPolicy of the backend cannot be used (no valid CA certificate ...); the
   * request is not sent unverified. */
  INVALID_BACKEND_TLS(500, "invalid_backend_tls_policy"),
  /** The endpoint did not accept the connection in time. */
  CONNECT_TIMEOUT(502, "connect_timeout"),
  /** The endpoint's host name did not resolve. */
  UNKNOWN_HOST(502, "unknown_host"),
  /** The endpoint did not answer within the upstream timeout. */
  RESPONSE_TIMEOUT(504, "response_timeout"),
  /** The rule's request timeout (Gateway API timeouts.request) passed before the response. */
  REQUEST_TIMEOUT(504, "request_timeout"),
  /** A BackendTrafficPolicy circuit breaker limit (parallel or pending requests) was reached:
   * answered at once without trying the upstream. */
  CIRCUIT_OPEN(503, "overflow"),
  /** The upstream connection closed or reset before the response was complete. */
  RESET(502, "upstream_reset"),
  /** The client went away before the response was complete; nothing can be answered. */
  CLIENT_GONE(499, "client_gone"),
  /** The Host belongs to another listener than the TLS server name (421 Misdirected Request). */
  MISDIRECTED(421, "misdirected"),
  /** The matched route is targeted by a security policy Portico cannot enforce yet
   * (SecurityPolicy): refused rather than served unprotected. */
  SECURITY_POLICY_NOT_ENFORCED(500, "security_policy_not_enforced"),
  /** The request could not be parsed or lacks a Host. */
  BAD_REQUEST(400, "bad_request"),
  /** The request line (URI) is longer than the decoder takes (414 URI Too Long). */
  URI_TOO_LONG(414, "uri_too_long"),
  /** The request headers are larger than the decoder takes (431). */
  HEADERS_TOO_LARGE(431, "headers_too_large"),
  /** A transfer coding other than a final {@code chunked} (RFC 9112 6.1: 501 Not Implemented). */
  UNSUPPORTED_TRANSFER_CODING(501, "unsupported_transfer_coding"),
  /** The client did not send a complete request head in time (408 Request Timeout). */
  REQUEST_HEADER_TIMEOUT(408, "request_header_timeout");

  private final int status;
  private final String label;

  UpstreamFailure(int status, String label) {
    this.status = status;
    this.label = label;
  }

  public int status() {
    return status;
  }

  public String label() {
    return label;
  }

  /** Classifies an exception of the upstream HTTP client. */
  public static UpstreamFailure of(Throwable failure) {
    if (failure instanceof ConnectTimeoutException) {
      return CONNECT_TIMEOUT;
    }
    if (failure instanceof ConnectException) {
      return CONNECT_REFUSED;
    }
    if (failure instanceof UnknownHostException) {
      return UNKNOWN_HOST;
    }
    // RequestOptions.connectTimeout covers connecting and waiting for a pooled connection:
    // either way the request never left Portico.
    if (String.valueOf(failure.getMessage()).contains("when getting a connection")) {
      return CONNECT_TIMEOUT;
    }
    if (failure instanceof TimeoutException
        || failure instanceof VertxException && String.valueOf(failure.getMessage()).contains("timeout")) {
      return RESPONSE_TIMEOUT;
    }
    if (failure instanceof SSLException) {
      return UPSTREAM_TLS;
    }
    if (failure instanceof HttpClosedException) {
      return RESET;
    }
    Throwable cause = failure.getCause();
    if (cause != null && cause != failure) {
      UpstreamFailure fromCause = of(cause);
      if (fromCause != RESET) {
        return fromCause;
      }
    }
    return RESET;
  }

  /** Whether the request never reached the endpoint, so trying another endpoint is always safe. */
  public boolean beforeConnect() {
    return this == CONNECT_REFUSED || this == CONNECT_TIMEOUT || this == UNKNOWN_HOST;
  }
}
