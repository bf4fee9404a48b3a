package io.portico.proxy;

import io.portico.ir.UpstreamTls;
import io.portico.proxy.tls.UpstreamTrustManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.TrustOptions;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The HTTPS clients of one proxy verticle: one per distinct {@link UpstreamTls}, since the
 * trust manager (CA certificates and the names to check) is a client option. Clients no
 * endpoints index uses any more are shut down gracefully. Confined to the verticle's event loop.
 */
final class UpstreamTlsClients {

  private final Vertx vertx;
  private final ProxyOptions options;
  private final Map<UpstreamTls, HttpClient> clients = new HashMap<>();

  UpstreamTlsClients(Vertx vertx, ProxyOptions options) {
    this.vertx = vertx;
    this.options = options;
  }

  /** Returns the client for {@code tls}, creating it on first use. */
  HttpClient client(UpstreamTls tls) {
    return clients.computeIfAbsent(tls, this::create);
  }

  private HttpClient create(UpstreamTls tls) {
    return vertx.httpClientBuilder()
        .with(new HttpClientOptions()
            .setSsl(true)
            .setForceSni(true)
            // The name is checked by UpstreamTrustManager against the policy, not the pod IP.
            .setVerifyHost(false)
            .setTrustOptions(TrustOptions.wrap(new UpstreamTrustManager(tls)))
            .setKeepAlive(true)
            .setKeepAliveTimeout(30)
            .setConnectTimeout(options.connectTimeoutMillis())
            .setTcpNoDelay(true)
            .setDecompressionSupported(false))
        .with(new PoolOptions().setHttp1MaxSize(options.maxConnectionsPerEndpoint()))
        .build();
  }

  /** Shuts down the clients whose setting is not in {@code current}. */
  void retain(Collection<UpstreamTls> current) {
    Set<UpstreamTls> wanted = new HashSet<>(current);
    clients.entrySet().removeIf(entry -> {
      if (wanted.contains(entry.getKey())) {
        return false;
      }
      entry.getValue().shutdown(30, TimeUnit.SECONDS);
      return true;
    });
  }

  int size() {
    return clients.size();
  }
}
