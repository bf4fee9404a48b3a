package io.portico.proxy;

import io.portico.proxy.tls.TlsEngines;
import io.portico.ir.BackendResilience.ConnectionPool;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.proxy.tls.UpstreamClientKeyManager;
import io.portico.proxy.tls.UpstreamTrustManager;
import io.portico.proxy.upstream.UpstreamClient;
import io.portico.proxy.upstream.VertxUpstreamClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The HTTPS clients of one proxy verticle: one per distinct pair of {@link UpstreamTls} and
 * client certificate, since both the trust manager (CA certificates and the names to check) and
 * the key manager (the certificate presented) are client options, and pooled connections must
 * never be shared between Gateways presenting different certificates. The UpstreamTls comes
 * from the endpoints index (per backend port), the certificate from the routing table (per
 * Gateway listener); clients that neither uses any more are shut down gracefully. Confined to
 * the verticle's event loop.
 */
final class UpstreamTlsClients {

  /**
   * @param clientCertificate the certificate presented to the backend, or null for none
   * @param pool the BackendTrafficPolicy's connection pool settings, or null for the defaults
   * @param rule the rule owning the client (one with a circuit breaker, whose connections
   *     {@link RuleConnections} counts), or null for a client shared by rules
   * @param http2 whether to offer h2 by ALPN (HTTP/1.1 stays the fallback): for backends that
   *     speak HTTP/2, such as a GRPCRoute's
   */
  record Key(UpstreamTls tls, TlsCertificate clientCertificate, ConnectionPool pool,
      String rule, boolean http2) {
  }

  private final Vertx vertx;
  private final ProxyOptions options;
  private final Map<Key, VertxUpstreamClient> clients = new HashMap<>();

  /** How many proxy verticles share a pool's limits (see {@link UpstreamClients}). */
  private final int loops;

  UpstreamTlsClients(Vertx vertx, ProxyOptions options, int loops) {
    this.vertx = vertx;
    this.options = options;
    this.loops = loops;
  }

  /**
   * Returns the client for {@code tls} presenting {@code clientCertificate} (null: none),
   * pooling as {@code pool} says (null: the defaults) and owned by {@code rule} (null: shared),
   * creating it on first use; {@code http2} offers h2 by ALPN.
   */
  UpstreamClient client(UpstreamTls tls, TlsCertificate clientCertificate, ConnectionPool pool,
      String rule, boolean http2) {
    return clients.computeIfAbsent(new Key(tls, clientCertificate, pool, rule, http2),
        this::create);
  }

  private VertxUpstreamClient create(Key key) {
    UpstreamTls tls = key.tls();
    HttpClientOptions clientOptions = options.upstreamClientOptions();
    if (key.clientCertificate() != null) {
      clientOptions.setKeyCertOptions(
          KeyCertOptions.wrap(new UpstreamClientKeyManager(key.clientCertificate())));
    }
    PoolOptions poolOptions = new PoolOptions().setHttp1MaxSize(options.maxConnectionsPerEndpoint());
    if (key.http2()) {
      clientOptions.setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true)
          .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1));
      poolOptions.setHttp2MaxSize(2);
    }
    UpstreamClients.configure(clientOptions, poolOptions, key.pool(), loops);
    HttpClient client = vertx.httpClientBuilder()
        .with(clientOptions
            .setSsl(true)
            .setSslEngineOptions(TlsEngines.engine())
            .setEnabledSecureTransportProtocols(TlsEngines.PROTOCOLS)
            .setForceSni(true)
            // The name is checked by UpstreamTrustManager against the policy, not the pod IP.
            .setVerifyHost(false)
            .setTrustOptions(TrustOptions.wrap(new UpstreamTrustManager(tls))))
        .with(poolOptions)
        .withConnectHandler(UpstreamConnectionSetup::connected)
        .build();
    return new VertxUpstreamClient(client, tls.hostname(),
        key.pool() == null ? 0 : key.pool().maxRequestsPerConnection());
  }

  /**
   * Shuts down the clients whose setting is not in {@code currentTls}, whose client
   * certificate is not in {@code currentCertificates}, whose pool settings are not in
   * {@code currentPools}, or that are owned by a rule not in {@code currentRules}.
   */
  void retain(Collection<UpstreamTls> currentTls,
      Collection<TlsCertificate> currentCertificates, Collection<ConnectionPool> currentPools,
      Collection<String> currentRules) {
    Set<ConnectionPool> pools = new HashSet<>(currentPools);
    Set<String> rules = new HashSet<>(currentRules);
    Set<UpstreamTls> wanted = new HashSet<>(currentTls);
    Set<TlsCertificate> certificates = new HashSet<>(currentCertificates);
    clients.entrySet().removeIf(entry -> {
      Key key = entry.getKey();
      if (wanted.contains(key.tls()) && (key.clientCertificate() == null
          || certificates.contains(key.clientCertificate()))
          && (key.pool() == null || pools.contains(key.pool()))
          && (key.rule() == null || rules.contains(key.rule()))) {
        return false;
      }
      entry.getValue().shutdown(30);
      return true;
    });
  }

  int size() {
    return clients.size();
  }
}
