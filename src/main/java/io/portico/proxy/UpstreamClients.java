package io.portico.proxy;

import io.portico.ir.BackendResilience.ConnectionPool;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The cleartext upstream clients of one proxy verticle: the default HTTP/1.1 and h2c clients,
 * and one pair per distinct {@link ConnectionPool} a BackendTrafficPolicy sets, since Vert.x
 * pools connections per client and server address and pool limits are client options. Clients
 * of pools the table no longer uses are shut down gracefully. Confined to the verticle's event
 * loop.
 *
 * <p>Pool limits hold for the whole process: each of the {@code loops} verticles gets its share,
 * rounded up (2 connections per endpoint over 2 event loops: 1 each).
 *
 * <p>A rule with a circuit breaker gets clients of its own (never shared with another rule, even
 * with equal pool settings), so that its connections are its own and {@link RuleConnections}
 * can count them against {@code circuitBreaker.maxConnections}.
 */
final class UpstreamClients {

  /**
   * Which client a rule uses.
   *
   * @param pool the pool settings, or null for the defaults
   * @param rule the rule owning the client (one with a circuit breaker), or null for a client
   *     shared by every rule with these pool settings
   */
  record Key(ConnectionPool pool, String rule) {
  }

  private final Vertx vertx;
  private final ProxyOptions options;
  private final UpstreamClient http1;
  private final UpstreamClient h2c;
  private final int loops;
  private final Map<Key, VertxUpstreamClient> http1Clients = new HashMap<>();
  private final Map<Key, VertxUpstreamClient> h2cClients = new HashMap<>();
  /** Requests sent so far on connections whose pool limits requests per connection. */
  private final Map<HttpConnection, Integer> requestsPerConnection = new WeakHashMap<>();

  /**
   * @param http1 the default HTTP/1.1 client
   * @param h2c the default client for cleartext HTTP/2 (prior knowledge) backends
   * @param loops how many proxy verticles share the pool limits
   */
  UpstreamClients(Vertx vertx, ProxyOptions options, UpstreamClient http1, UpstreamClient h2c,
      int loops) {
    this.vertx = vertx;
    this.options = options;
    this.http1 = http1;
    this.h2c = h2c;
    this.loops = Math.max(1, loops);
  }

  /**
   * Returns the client for {@code pool} (null: the default settings) owned by {@code rule}
   * (null: shared), creating it on first use.
   */
  UpstreamClient client(ConnectionPool pool, String rule, boolean h2cBackend) {
    if (pool == null && rule == null) {
      return h2cBackend ? h2c : http1;
    }
    Map<Key, VertxUpstreamClient> clients = h2cBackend ? h2cClients : http1Clients;
    Key key = new Key(pool, rule);
    VertxUpstreamClient client = clients.get(key);
    if (client == null) {
      client = new VertxUpstreamClient(create(pool, h2cBackend), null);
      clients.put(key, client);
    }
    return client;
  }

  private HttpClient create(ConnectionPool pool, boolean h2cBackend) {
    HttpClientOptions clientOptions = options.upstreamClientOptions();
    if (h2cBackend) {
      clientOptions.setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false);
    }
    PoolOptions poolOptions = new PoolOptions()
        .setHttp1MaxSize(options.maxConnectionsPerEndpoint())
        .setHttp2MaxSize(2);
    configure(clientOptions, poolOptions, pool, loops);
    return vertx.httpClientBuilder().with(clientOptions).with(poolOptions)
        .withConnectHandler(Http2WriteBatching::install).build();
  }

  /** Applies {@code pool} (may be null) to client and pool options shared by {@code loops}. */
  static void configure(HttpClientOptions clientOptions, PoolOptions poolOptions,
      ConnectionPool pool, int loops) {
    if (pool == null) {
      return;
    }
    if (pool.maxConnections() > 0) {
      int share = Math.max(1, (pool.maxConnections() + loops - 1) / loops);
      poolOptions.setHttp1MaxSize(share).setHttp2MaxSize(Math.min(share,
          poolOptions.getHttp2MaxSize()));
    }
    if (pool.idleTimeoutMillis() > 0) {
      int seconds = (int) Math.min(Integer.MAX_VALUE, (pool.idleTimeoutMillis() + 999) / 1000);
      clientOptions.setKeepAliveTimeout(seconds).setHttp2KeepAliveTimeout(seconds);
    }
    if (pool.maxConnectionDurationMillis() > 0) {
      poolOptions.setMaxLifetime((int) Math.min(Integer.MAX_VALUE,
          pool.maxConnectionDurationMillis())).setMaxLifetimeUnit(TimeUnit.MILLISECONDS);
    }
    if (pool.http2InitialStreamWindowSize() > 0) {
      clientOptions.getInitialSettings().setInitialWindowSize(pool.http2InitialStreamWindowSize());
    }
    if (pool.http2InitialConnectionWindowSize() > 0) {
      clientOptions.setHttp2ConnectionWindowSize(pool.http2InitialConnectionWindowSize());
    }
    if (pool.http2MaxConcurrentStreams() > 0) {
      clientOptions.setHttp2MultiplexingLimit(pool.http2MaxConcurrentStreams());
    }
  }

  /**
   * Counts a request sent on {@code connection} of a pool with {@code maxRequestsPerConnection}
   * ({@code circuitBreaker.maxRequestsPerConnection}); the one that reaches the limit shuts the
   * connection down gracefully (it finishes its requests, the pool then opens a new one).
   */
  void countRequest(HttpConnection connection, int maxRequestsPerConnection) {
    if (connection == null) {
      return;
    }
    int sent = requestsPerConnection.merge(connection, 1, Integer::sum);
    if (sent >= maxRequestsPerConnection) {
      requestsPerConnection.remove(connection);
      connection.shutdown(30, TimeUnit.SECONDS);
    }
  }

  /** Shuts down the clients not in {@code current}. */
  void retain(Collection<Key> current) {
    Set<Key> wanted = new HashSet<>(current);
    for (Map<Key, VertxUpstreamClient> clients : java.util.List.of(http1Clients, h2cClients)) {
      clients.entrySet().removeIf(entry -> {
        if (wanted.contains(entry.getKey())) {
          return false;
        }
        entry.getValue().shutdown(30);
        return true;
      });
    }
  }

  int size() {
    return http1Clients.size() + h2cClients.size();
  }
}
