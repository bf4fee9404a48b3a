package io.portico;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.portico.admin.AdminServer;
import io.portico.bus.LocalCodec;
import io.portico.controller.ConfigVerticle;
import io.portico.controller.GatewayState;
import io.portico.health.HealthCheckVerticle;
import io.portico.resource.ConfigProblem;
import io.portico.provider.FileProvider;
import io.portico.provider.KubernetesProvider;
import io.portico.proxy.ProxyTransport;
import io.portico.proxy.PortClaims;
import io.portico.proxy.ProxyVerticle;
import io.portico.proxy.tls.SessionTicketKeys;
import io.portico.proxy.tls.TlsEngines;
import io.portico.proxy.tcp.StreamMetrics;
import io.portico.proxy.tcp.StreamProxyVerticle;
import io.portico.proxy.tcp.UdpProxyVerticle;
import io.portico.status.StatusWriter;
import io.portico.translate.Translator;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.util.List;
import java.util.Objects;

/**
 * One running gateway: the configuration verticle, one proxy verticle per event loop, and the
 * admin API, in one Vert.x instance. Start order matters: the configuration verticle delivers
 * its first table before the proxies start, so they never serve a half-loaded configuration.
 */
public final class Portico {

  private final Vertx vertx;
  private final ConfigVerticle config;
  private final HttpServer admin;
  private final Cluster cluster;
  private final StreamMetrics streamMetrics;

  private Portico(Vertx vertx, ConfigVerticle config, HttpServer admin, Cluster cluster,
      StreamMetrics streamMetrics) {
    this.vertx = vertx;
    this.config = config;
    this.admin = admin;
    this.cluster = cluster;
    this.streamMetrics = streamMetrics;
  }

  /**
   * What Kubernetes mode adds: the status writer (null in standalone mode). The client belongs
   * to the caller, who closes it.
   */
  private record Cluster(StatusWriter writer) {

    static final Cluster NONE = new Cluster(null);

    void close() {
      if (writer != null) {
        writer.close();
      }
    }
  }

  private static final long TICKET_KEY_ROTATION_MILLIS = 12 * 3600 * 1000L;

  /** Starts a gateway; the future completes once every listener port is served. */
  public static Future<Portico> start(PorticoOptions options) {
    Objects.requireNonNull(options, "options");
    TlsEngines.chooseInBackground();
    VertxOptions vertxOptions = new VertxOptions()
        .setEventLoopPoolSize(options.eventLoops());
    if (options.metrics()) {
      // Per-request HTTP metrics of Vert.x cost ~10% of throughput (bench/); the proxy counts
      // requests itself with pre-registered meters (ProxyMetrics) instead.
      vertxOptions.setMetricsOptions(new MicrometerMetricsOptions()
          .setEnabled(true)
          .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER)
          .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
          .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    }
    // The native transport where it loads, else NIO (Vert.x ignores setPreferNativeTransport
    // once a transport is given), with the two channel settings Vert.x has no hook for: the
    // first-request-head deadline of cleartext listeners and the upstreams' relay buffers.
    Vertx vertx = Vertx.builder().with(vertxOptions)
        .withTransport(ProxyTransport.preferNative(
            options.proxy().client().requestHeadersTimeoutMillis()))
        .build();
    LocalCodec.registerAll(vertx);
    // New session tickets under a new key twice a day; tickets of the previous key still resume.
    vertx.setPeriodic(TICKET_KEY_ROTATION_MILLIS, id -> SessionTicketKeys.rotate());
    Cluster cluster = Cluster.NONE;
    MeterRegistry meters = options.metrics() ? BackendRegistries.getDefaultNow() : null;
    ConfigVerticle config;
    KubernetesOptions kubernetes = options.kubernetes();
    if (kubernetes == null) {
      config = new ConfigVerticle(new Translator(options.translator()),
          onSnapshot -> new FileProvider(vertx, options.configDirectory(), onSnapshot),
          state -> { }, meters);
    } else {
      KubernetesClient client = kubernetes.client();
      StatusWriter writer = new StatusWriter(client, options.translator().controllerName(),
          kubernetes.lease());
      if (meters != null) {
        writer.registerMetrics(meters);
      }
      cluster = new Cluster(writer);
      config = new ConfigVerticle(new Translator(options.translator()),
          onSnapshot -> {
            KubernetesProvider provider =
                new KubernetesProvider(vertx, client, kubernetes.coalescing(), onSnapshot);
            // Snapshots leave status echoes out: the writer reads statuses from the informers,
            // and looks again at an object whose status someone else changed.
            writer.readCopiesFrom(provider::current);
            provider.onStatusChange(writer::statusChanged);
            return provider;
          },
          state -> writer.offer(state.status(), state.snapshot()), meters);
    }
    Cluster clusterMode = cluster;
    Holder holder = new Holder();
    StreamMetrics streamMetrics = new StreamMetrics(meters);
    PortClaims portClaims = new PortClaims();
    Future<Void> started = vertx.deployVerticle(config)
        .onSuccess(id -> {
          if (clusterMode.writer() != null) {
            // Only once the first snapshot is in: a leader must not write status for a cluster
            // it has not finished reading.
            clusterMode.writer().start();
          }
        })
        .compose(id -> vertx.deployVerticle(new HealthCheckVerticle()))
        .compose(id -> vertx.deployVerticle(() -> new ProxyVerticle(options.proxy(), portClaims),
            new DeploymentOptions().setInstances(options.eventLoops())))
        // TLS passthrough and TCP listener ports: a verticle of their own on the same loops.
        .compose(id -> vertx.deployVerticle(
            () -> new StreamProxyVerticle(options.proxy(), portClaims, streamMetrics),
            new DeploymentOptions().setInstances(options.eventLoops())))
        // UDP listener ports: one instance (a UDP port is not shared between event loops).
        .compose(id -> vertx.deployVerticle(new UdpProxyVerticle(options.proxy(), streamMetrics)))
        .compose(id -> {
          if (options.adminHost() == null) {
            return Future.succeededFuture();
          }
          AdminServer server = new AdminServer(config::state, config::problems, () -> holder.ready);
          return server.listen(vertx, options.adminHost(), options.adminPort())
              .onSuccess(s -> holder.admin = s).mapEmpty();
        })
        .mapEmpty();
    // A promise without a context: the failure is reported from the thread that closes Vert.x.
    // (A future chained on a Vert.x context would be dispatched to that context's event loop,
    // which is gone by then, and never complete.)
    Promise<Portico> result = Promise.promise();
    started.onComplete(done -> {
      if (done.succeeded()) {
        holder.ready = true;
        result.complete(new Portico(vertx, config, holder.admin, clusterMode, streamMetrics));
      } else {
        clusterMode.close();
        vertx.close().onComplete(closed -> result.fail(done.cause()));
      }
    });
    return result.future();
  }

  /** Carries results between the steps of {@link #start}. */
  private static final class Holder {
    volatile boolean ready;
    HttpServer admin;
  }

  public GatewayState state() {
    return config.state();
  }

  /** Returns how many snapshots were translated (endpoint-only changes take a fast path). */
  public long translations() {
    return config.translations();
  }

  /** Returns the problems of the last configuration read (file and line of each). */
  public List<ConfigProblem> problems() {
    return config.problems();
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Returns the admin API's port, or -1 when it is off. */
  public int adminPort() {
    return admin == null ? -1 : admin.actualPort();
  }

  /** Returns the connection (UDP: session) counts of the TLS, TCP and UDP listener ports. */
  public StreamMetrics streamMetrics() {
    return streamMetrics;
  }

  /** Returns the status writer in Kubernetes mode, or null in standalone mode. */
  public StatusWriter statusWriter() {
    return cluster.writer();
  }

  public Future<Void> close() {
    cluster.close();
    return vertx.close();
  }
}
