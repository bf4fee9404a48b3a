package io.portico.proxy;

import io.portico.proxy.upstream.RelayBuffers;
import io.vertx.core.http.HttpClientOptions;

import java.util.Objects;

/**
 * Settings of the proxy verticles.
 *
 * @param bindHost the address every listener port is bound on, e.g. {@code 0.0.0.0}
 * @param portOffset added to Gateway listener ports below 1024 when binding them, so an
 *     unprivileged process can serve port 80 as 8080; 0 binds ports as written
 * @param connectTimeoutMillis how long to wait for an upstream connection
 * @param upstreamIdleTimeoutMillis how long an upstream may stay silent (before its response
 *     head, or between body chunks) before the request fails with 504
 * @param maxConnectionsPerEndpoint HTTP/1.1 connection pool size per endpoint and event loop
 * @param client the timeouts and connection cap of client connections
 */
public record ProxyOptions(String bindHost, int portOffset, int connectTimeoutMillis,
    int upstreamIdleTimeoutMillis, int maxConnectionsPerEndpoint, ClientLimits client) {

  public static final ProxyOptions DEFAULTS = new ProxyOptions("0.0.0.0", 8000, 5_000, 15_000, 256,
      ClientLimits.DEFAULTS);

  public ProxyOptions {
    Objects.requireNonNull(bindHost, "bindHost");
    Objects.requireNonNull(client, "client");
    if (portOffset < 0 || portOffset > 64_000) {
      throw new IllegalArgumentException("portOffset: " + portOffset + " (expected: 0-64000)");
    }
    if (connectTimeoutMillis <= 0 || upstreamIdleTimeoutMillis <= 0 || maxConnectionsPerEndpoint <= 0) {
      throw new IllegalArgumentException("timeouts and pool size must be > 0");
    }
  }

  /**
   * The most body bytes the upstream HTTP/1.1 decoder hands over at once (Vert.x: 8 KiB). A
   * response read in one go is relayed in one write to the client instead of one per 8 KiB.
   */
  static final int UPSTREAM_MAX_CHUNK_BYTES = 64 * 1024;

  /**
   * The name upstream HTTP clients carry, by which {@link ProxyTransport} gives their
   * connections {@link RelayBuffers}: whoever reads an answer of theirs releases its chunks.
   */
  static final String UPSTREAM_CLIENT_NAME = "portico-upstream";

  /**
   * Returns the settings every upstream client starts from (HTTP/1.1, h2c and TLS clients):
   * pooled keep-alive connections, the connect timeout, no Nagle, bodies passed through as
   * they are, read into {@link RelayBuffers}.
   *
   * <p>An idle pooled connection is kept 60 s, as nginx keeps its upstream keep-alive
   * connections (Envoy: an hour), unless the endpoint said it closes sooner ({@code Keep-Alive:
   * timeout=N}); a BackendTrafficPolicy's {@code connectionIdleTimeout} sets another. At 30 s,
   * traffic back after half a minute of quiet found every connection closed and reconnected all
   * at once, which also sent the JIT's compiled request path back to the interpreter for the
   * connect branches it had never seen taken (bench: p99 1.6 -> 2.2-2.5 ms in the minute after).
   */
  public HttpClientOptions upstreamClientOptions() {
    return new HttpClientOptions()
        .setKeepAlive(true)
        .setKeepAliveTimeout(60)
        .setConnectTimeout(connectTimeoutMillis)
        .setTcpNoDelay(true)
        .setMaxChunkSize(UPSTREAM_MAX_CHUNK_BYTES)
        .setDecompressionSupported(false)
        .setMetricsName(UPSTREAM_CLIENT_NAME);
  }

  /**
   * Returns the host a listener is bound on: its Gateway's own address, or the shared bind host
   * when it has none (empty).
   */
  public String bindHost(String listenerAddress) {
    return listenerAddress.isEmpty() ? bindHost : listenerAddress;
  }

  /** Returns the port a Gateway listener port is bound on. */
  public int bindPort(int listenerPort) {
    return listenerPort < 1024 ? listenerPort + portOffset : listenerPort;
  }

  public ProxyOptions withBindHost(String host) {
    return new ProxyOptions(host, portOffset, connectTimeoutMillis, upstreamIdleTimeoutMillis,
        maxConnectionsPerEndpoint, client);
  }

  public ProxyOptions withPortOffset(int offset) {
    return new ProxyOptions(bindHost, offset, connectTimeoutMillis, upstreamIdleTimeoutMillis,
        maxConnectionsPerEndpoint, client);
  }

  public ProxyOptions withClient(ClientLimits limits) {
    return new ProxyOptions(bindHost, portOffset, connectTimeoutMillis, upstreamIdleTimeoutMillis,
        maxConnectionsPerEndpoint, limits);
  }

  public ProxyOptions withUpstreamIdleTimeoutMillis(int millis) {
    return new ProxyOptions(bindHost, portOffset, connectTimeoutMillis, millis,
        maxConnectionsPerEndpoint, client);
  }
}
