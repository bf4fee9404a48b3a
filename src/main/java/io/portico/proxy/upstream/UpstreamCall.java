package io.portico.proxy.upstream;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.streams.WriteStream;

/**
 * One attempt's request to an endpoint, as the proxy's Forwarder drives it: its head is sent
 * with the first write (or {@link #send()}), its body streams with back-pressure, and its
 * answer arrives as an {@link UpstreamAnswer}. Implemented by Portico's own HTTP/1.1 client
 * ({@link Http1Upstreams}, for cleartext HTTP/1.1 endpoints) and over Vert.x's client
 * ({@link VertxUpstreamCall}: h2c, upstream TLS, the pools of BackendTrafficPolicies).
 * Confined to the event loop of the request.
 */
public interface UpstreamCall extends WriteStream<Buffer> {

  /** The request's headers, changed freely until the head is sent. */
  MultiMap headers();

  /** Sets the authority sent upstream (the Host header on HTTP/1.1). */
  void authority(HostAndPort authority);

  /** Sends the body with chunked transfer coding (when its length is not known up front). */
  void setChunked(boolean chunked);

  /** The answer's head, or the failure that prevents one. */
  Future<UpstreamAnswer> response();

  /** Ends the request without a body, and returns {@link #response()}. */
  Future<UpstreamAnswer> send();

  /** Ends the request with {@code last} as the last part of its body. */
  Future<Void> end(Buffer last);

  /**
   * Abandons the attempt: HTTP/2 resets the stream with {@code code}, HTTP/1.1 closes the
   * connection once anything was sent on it. The answer (pending or in progress) fails with
   * {@code cause}. Nothing happens once the answer has ended.
   */
  void reset(long code, Throwable cause);

  /** {@link #reset(long, Throwable)} with no error code (HTTP/2 NO_ERROR) nor cause. */
  void reset();

  /**
   * The connection the request went out on, for the count of
   * {@code circuitBreaker.maxConnections} (the proxy's RuleConnections).
   */
  UpstreamConnection connection();
}
