package io.portico.proxy;

import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.proxy.upstream.Http1Upstreams;
import io.portico.proxy.upstream.UpstreamClient;
import io.portico.proxy.upstream.VertxUpstreamClient;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.internal.ContextInternal;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The cleartext upstream clients of one proxy verticle: for HTTP/1.1 endpoints Portico's own
 * ({@link Http1Upstreams}), for h2c ones Vert.x's; the default pair, and one pair per distinct
 * {@link ConnectionPool} a BackendTrafficPolicy sets, since connections are pooled per client
 * and endpoint and pool limits are client settings. Clients of pools the table no longer uses
 * are shut down gracefully. Confined to the verticle's event loop.
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

  private final ContextInternal context;
  private final ProxyOptions options;
  private final Http1Upstreams http1;
  private final UpstreamClient h2c;
  private final int loops;
  private final Map<Key, Http1Upstreams> http1Clients = new HashMap<>();
  private final Map<Key, VertxUpstreamClient> h2cClients = new HashMap<>();

  /**
   * @param named Vert.x's default HTTP/1.1 client, for endpoints named by host name
   * @param h2c the default client for cleartext HTTP/2 (prior knowledge) backends
   * @param loops how many proxy verticles share the pool limits
   */
  UpstreamClients(ContextInternal context, ProxyOptions options, HttpClient named,
      UpstreamClient h2c, int loops) {
    this.context = context;
    this.options = options;
    this.loops = Math.max(1, loops);
    UpstreamClient namedClient = new VertxUpstreamClient(named, null, 0);
    this.http1 = new Http1Upstreams(context, options.upstreamClientOptions(), settings(null),
        () -> namedClient);
    this.h2c = h2c;
  }

  /**
   * Returns the client for {@code pool} (null: the default settings) owned by {@code rule}
   * (null: shared), creating it on first use.
   */
  UpstreamClient client(ConnectionPool pool, String rule, boolean h2cBackend) {
    if (pool == null && rule == null) {
      return h2cBackend ? h2c : http1;
    }
    Key key = new Key(pool, rule);
    if (h2cBackend) {
      VertxUpstreamClient client = h2cClients.get(key);
      if (client == null) {
        client = new VertxUpstreamClient(create(pool, true), null,
            pool == null ? 0 : pool.maxRequestsPerConnection());
        h2cClients.put(key, client);
      }
      return client;
    }
    Http1Upstreams client = http1Clients.get(key);
    if (client == null) {
      client = new Http1Upstreams(context, options.upstreamClientOptions(), settings(pool),
          () -> new VertxUpstreamClient(create(pool, false), null,
              pool == null ? 0 : pool.maxRequestsPerConnection()));
      http1Clients.put(key, client);
    }
    return client;
  }

  /**
   * The pool settings of Portico's own client for {@code pool} (null: the defaults), as
   * {@link #configure} sets Vert.x's.
   */
  private Http1Upstreams.Settings settings(ConnectionPool pool) {
    int maxConnections = options.maxConnectionsPerEndpoint();
    long idleTimeout = options.upstreamClientOptions().getKeepAliveTimeout() * 1000L;
    if (pool == null) {
      return new Http1Upstreams.Settings(maxConnections, idleTimeout, 0, 0);
    }
    if (pool.maxConnections() > 0) {
      maxConnections = share(pool.maxConnections(), loops);
    }
    if (pool.idleTimeoutMillis() > 0) {
      idleTimeout = pool.idleTimeoutMillis();
    }
    return new Http1Upstreams.Settings(maxConnections, idleTimeout,
        Math.max(0, pool.maxConnectionDurationMillis()),
        Math.max(0, pool.maxRequestsPerConnection()));
  }

  /** One event loop's part of {@code total} connections shared by {@code loops}, rounded up. */
  private static int share(int total, int loops) {
    return Math.max(1, (total + loops - 1) / loops);
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
    return context.owner().httpClientBuilder().with(clientOptions).with(poolOptions)
        .withConnectHandler(UpstreamConnectionSetup::connected).build();
  }

  /** Applies {@code pool} (may be null) to client and pool options shared by {@code loops}. */
  static void configure(HttpClientOptions clientOptions, PoolOptions poolOptions,
      ConnectionPool pool, int loops) {
    if (pool == null) {
      return;
    }
    if (pool.maxConnections() > 0) {
      int share = share(pool.maxConnections(), loops);
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

  /** Shuts down the clients not in {@code current}. */
  void retain(Collection<Key> current) {
    Set<Key> wanted = new HashSet<>(current);
    h2cClients.entrySet().removeIf(entry -> {
      if (wanted.contains(entry.getKey())) {
        return false;
      }
      entry.getValue().shutdown(30);
      return true;
    });
    http1Clients.entrySet().removeIf(entry -> {
      if (wanted.contains(entry.getKey())) {
        return false;
      }
      entry.getValue().close();
      return true;
    });
  }

  /** Closes Portico's own clients (the verticle stops; Vert.x closes its clients itself). */
  void close() {
    http1.close();
    http1Clients.values().forEach(Http1Upstreams::close);
  }

  int size() {
    return http1Clients.size() + h2cClients.size();
  }
}
