package io.portico.proxy;

/**
 * What a client connection may hold of the proxy, with Envoy Gateway's names where it has them
 * (ClientTrafficPolicy is not read yet: these apply to every listener).
 *
 * @param requestHeadersTimeoutMillis how long an HTTP/1.x client has to send a complete request
 *     head, counted from the connection's accept (first request) or from the first byte of a
 *     later one; past it Portico answers 408 and closes (Envoy's
 *     {@code request_headers_timeout}; nginx's {@code client_header_timeout}, 60 s). Stops a
 *     slowloris that sends a header byte every few seconds. Default 60 s
 * @param idleTimeoutMillis how long a client connection with no request in flight stays open:
 *     an HTTP/1.1 keep-alive connection between requests, an HTTP/2 connection without streams
 *     (Envoy Gateway's ClientTrafficPolicy {@code timeout.http.idleTimeout}). Envoy's default is
 *     1 h; Portico's is 60 s (AWS ALB's default; nginx uses 75 s): each idle connection costs
 *     about 19 KiB (measured: 3,000 idle keep-alive connections took RSS from 134 to 189 MiB
 *     on one event loop with -Xmx256m), and clients reopen a closed keep-alive connection at
 *     no cost beyond a handshake
 * @param http2MaxConnectionAgeMillis after how long an HTTP/2 client connection is told to go
 *     away (GOAWAY, streams in flight finish), so long-lived clients rebalance over replicas
 *     (Envoy's {@code max_connection_duration}); 0: never (Envoy's default)
 * @param tlsHandshakeTimeoutMillis how long a TLS client has to complete its handshake
 * @param connectionLimit how many client connections one listener port holds at once (every
 *     event loop together); a connection beyond it is closed at accept and counted in
 *     {@code portico_client_connections_refused_total} (Envoy Gateway's ClientTrafficPolicy
 *     {@code connection.connectionLimit.value}). Default 10,000: about 185 MiB of idle
 *     connections at the measured 19 KiB each
 */
public record ClientLimits(long requestHeadersTimeoutMillis, long idleTimeoutMillis,
    long http2MaxConnectionAgeMillis, long tlsHandshakeTimeoutMillis, int connectionLimit) {

  public static final ClientLimits DEFAULTS =
      new ClientLimits(60_000, 60_000, 0, 10_000, 10_000);

  public ClientLimits {
    if (requestHeadersTimeoutMillis <= 0) {
      throw new IllegalArgumentException("requestHeadersTimeoutMillis: "
          + requestHeadersTimeoutMillis + " (expected: > 0)");
    }
    if (idleTimeoutMillis <= 0) {
      throw new IllegalArgumentException("idleTimeoutMillis: " + idleTimeoutMillis
          + " (expected: > 0)");
    }
    if (http2MaxConnectionAgeMillis < 0) {
      throw new IllegalArgumentException("http2MaxConnectionAgeMillis: "
          + http2MaxConnectionAgeMillis + " (expected: >= 0)");
    }
    if (tlsHandshakeTimeoutMillis <= 0) {
      throw new IllegalArgumentException("tlsHandshakeTimeoutMillis: "
          + tlsHandshakeTimeoutMillis + " (expected: > 0)");
    }
    if (connectionLimit <= 0) {
      throw new IllegalArgumentException("connectionLimit: " + connectionLimit
          + " (expected: > 0)");
    }
  }

  public ClientLimits withRequestHeadersTimeoutMillis(long millis) {
    return new ClientLimits(millis, idleTimeoutMillis, http2MaxConnectionAgeMillis,
        tlsHandshakeTimeoutMillis, connectionLimit);
  }

  public ClientLimits withIdleTimeoutMillis(long millis) {
    return new ClientLimits(requestHeadersTimeoutMillis, millis, http2MaxConnectionAgeMillis,
        tlsHandshakeTimeoutMillis, connectionLimit);
  }

  public ClientLimits withHttp2MaxConnectionAgeMillis(long millis) {
    return new ClientLimits(requestHeadersTimeoutMillis, idleTimeoutMillis, millis,
        tlsHandshakeTimeoutMillis, connectionLimit);
  }

  public ClientLimits withTlsHandshakeTimeoutMillis(long millis) {
    return new ClientLimits(requestHeadersTimeoutMillis, idleTimeoutMillis,
        http2MaxConnectionAgeMillis, millis, connectionLimit);
  }

  public ClientLimits withConnectionLimit(int limit) {
    return new ClientLimits(requestHeadersTimeoutMillis, idleTimeoutMillis,
        http2MaxConnectionAgeMillis, tlsHandshakeTimeoutMillis, limit);
  }

  /** How often each event loop checks its connections' deadlines: a tenth of the shortest. */
  long sweepIntervalMillis() {
    long shortest = Math.min(requestHeadersTimeoutMillis, idleTimeoutMillis);
    if (http2MaxConnectionAgeMillis > 0) {
      shortest = Math.min(shortest, http2MaxConnectionAgeMillis);
    }
    return Math.max(20, Math.min(1_000, shortest / 10));
  }
}
