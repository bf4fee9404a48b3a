package io.portico.cli;

import io.portico.Portico;
import io.portico.PorticoOptions;
import io.portico.proxy.ClientLimits;
import io.portico.proxy.ProxyOptions;
import io.portico.translate.TranslatorOptions;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The {@code run} and {@code quickstart} commands: start a gateway and keep it running. */
final class GatewayCommand {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayCommand.class);

  private static final Set<String> OPTIONS = Set.of("--config", "--bind", "--port-offset",
      "--admin", "--event-loops", "--controller-name", "--upstream-timeout",
      "--gateway-address-pool", "--request-headers-timeout", "--client-idle-timeout",
      "--http2-max-connection-age", "--tls-handshake-timeout", "--client-connection-limit");
  private static final Set<String> FLAGS = Set.of("--kubernetes", "--no-metrics",
      "--exit-when-ready", "--train-kubernetes");

  private static final String HELP = """
      Usage: java -jar portico.jar %s [options]

        --config DIR            directory of Kubernetes YAML to serve (GatewayClass, Gateway,
                                HTTPRoute, Service + EndpointSlice, ReferenceGrant, Namespace,
                                gateway.envoyproxy.io Backend); reloaded when a file changes%s
        --kubernetes            watch the Kubernetes API server (all namespaces) instead of a
                                directory; kubeconfig or in-cluster service account, as
                                kubectl finds them; the replica holding the Lease "portico"
                                (namespace $POD_NAMESPACE) writes status back
        --bind ADDRESS          address to serve listener ports on (default 0.0.0.0)
        --port-offset N         listener ports below 1024 are served on port+N (default 8000:
                                80 -> 8080, 443 -> 8443); 0 serves them as written
        --admin HOST:PORT|off   admin API: /healthz /readyz /metrics /config/* (default
                                127.0.0.1:9901)
        --event-loops N         proxy event loops (default: number of CPUs)
        --controller-name NAME  GatewayClass controllerName to serve (default
                                gateway.envoyproxy.io/gatewayclass-controller)
        --upstream-timeout DUR  how long an upstream may stay silent before 504, e.g. 15s
                                (default 15s)
        --request-headers-timeout DUR
                                an HTTP/1.x client must send a complete request head within
                                this (from accept, or from the first byte of a later
                                request), else 408 and close (default 60s)
        --client-idle-timeout DUR
                                close a client connection with no request in flight after
                                this: keep-alive and HTTP/2 (Envoy Gateway
                                ClientTrafficPolicy timeout.http.idleTimeout; default 60s)
        --http2-max-connection-age DUR
                                send GOAWAY to HTTP/2 clients connected for this long
                                (default 0: never)
        --tls-handshake-timeout DUR
                                a TLS client must finish its handshake within this
                                (default 10s)
        --client-connection-limit N
                                client connections one listener port holds at once; more are
                                closed at accept and counted in
                                portico_client_connections_refused_total (Envoy Gateway
                                ClientTrafficPolicy connection.connectionLimit; default 10000)
        --gateway-address-pool CIDR
                                give every Gateway its own address from this IPv4 block
                                (e.g. 127.0.10.0/24), so several Gateways can use one port;
                                a Gateway's spec.addresses IPAddress wins (default: all
                                Gateways share --bind)
        --no-metrics            do not collect Prometheus metrics
        --exit-when-ready       serve a copy of the configuration, one request on each
                                listener port, four changes to the copy, then exit: a
                                training run for the class-data archive (see README)
        --train-kubernetes      with --exit-when-ready: also start the Kubernetes provider
                                against a stand-in API server on loopback, so the archive
                                holds Kubernetes mode's classes too (portico-kubernetes.jsa)
      """;

  private GatewayCommand() {
  }

  static int run(String[] args, boolean quickstart) throws Arguments.UsageException {
    String command = quickstart ? "quickstart" : "run";
    if (Main.wantsHelp(args)) {
      System.out.printf(HELP, command, quickstart
          ? "\n                                (default: examples/quickstart, or the bundled copy)" : "");
      return Main.EXIT_OK;
    }
    Arguments arguments = Arguments.parse(command, args, 1, OPTIONS, FLAGS);
    StaleArchiveCheck.warnIfStale();
    if (arguments.has("--kubernetes")) {
      if (quickstart || arguments.has("--config")) {
        throw new Arguments.UsageException(command + ": --kubernetes and --config are exclusive"
            + (quickstart ? " (quickstart serves a directory; use run --kubernetes)" : ""));
      }
      return KubernetesMode.run(command, options(command, arguments, null));
    }
    Path config;
    if (quickstart) {
      config = QuickstartConfig.directory(arguments.get("--config", null));
    } else {
      if (!arguments.has("--config")) {
        throw new Arguments.UsageException(command + ": --config DIR is required (or --kubernetes)");
      }
      config = Path.of(arguments.get("--config", null));
    }
    PorticoOptions options = options(command, arguments, config);
    if (!Files.isDirectory(config)) {
      System.err.println("portico " + command + ": config directory " + config.toAbsolutePath()
          + " does not exist or is not a directory");
      return Main.EXIT_USAGE;
    }
    if (arguments.has("--exit-when-ready")) {
      // The training run changes what it serves: a copy, never the directory it was given.
      config = TrainingRun.scratchCopy(config);
      options = options.withConfigDirectory(config);
    }
    try {
      Portico portico;
      if (quickstart) {
        Quickstart started = Quickstart.start(options);
        closeAtExit(started::close, () -> { });
        portico = started.gateway();
        LOG.info("quickstart: {} echo backends started; try: curl -H 'Host: app.example.com' "
            + "http://localhost:{}/", started.backends(), options.proxy().bindPort(80));
      } else {
        portico = startUntilExit(options, () -> { });
      }
      LOG.info("Portico is serving {} (admin: {})", config.toAbsolutePath(),
          options.adminHost() == null ? "off" : options.adminHost() + ":" + portico.adminPort());
      if (arguments.has("--exit-when-ready")) {
        TrainingRun.exercise(portico, options.proxy());
        TrainingRun.exerciseChanges(portico, config);
        if (arguments.has("--train-kubernetes")) {
          KubernetesTraining.exercise(portico.vertx(), config);
        }
        System.exit(Main.EXIT_OK);
      }
      return Main.EXIT_OK;
    } catch (ExecutionException e) {
      System.err.println("portico " + command + ": could not start: " + e.getCause().getMessage());
      return Main.EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Main.EXIT_FAILED;
    }
  }

  /**
   * Starts a gateway and closes it when the JVM exits (then runs {@code afterClose}); fails as
   * {@link Portico#start} does.
   */
  static Portico startUntilExit(PorticoOptions options, Runnable afterClose)
      throws ExecutionException, InterruptedException {
    Portico portico = Portico.start(options).toCompletionStage().toCompletableFuture().get();
    closeAtExit(portico::close, afterClose);
    return portico;
  }

  /**
   * Runs {@code close} when the JVM exits, waiting up to 10 s for the future it returns, then
   * runs {@code afterClose}.
   */
  private static void closeAtExit(Supplier<Future<Void>> close, Runnable afterClose) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        close.get().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // Exiting anyway.
      } finally {
        afterClose.run();
      }
    }, "portico-shutdown"));
  }

  /** Returns the duration {@code option} gives in ms, or {@code fallback} when it is absent. */
  private static long duration(String command, Arguments arguments, String option, long fallback,
      boolean zeroAllowed) throws Arguments.UsageException {
    if (!arguments.has(option)) {
      return fallback;
    }
    String value = arguments.get(option, null);
    long millis;
    try {
      millis = io.portico.resource.GoDuration.parse(value).toMillis();
    } catch (IllegalArgumentException e) {
      throw new Arguments.UsageException(command + ": " + option + " " + value
          + " (expected: a duration such as 500ms, 15s, 2m)");
    }
    if (millis < 0 || millis == 0 && !zeroAllowed) {
      throw new Arguments.UsageException(command + ": " + option + " " + value
          + " (expected: " + (zeroAllowed ? ">= 0" : "> 0") + ")");
    }
    return millis;
  }

  /** Returns the options of {@code arguments}; standalone if {@code config} is set. */
  static PorticoOptions options(String command, Arguments arguments, Path config)
      throws Arguments.UsageException {
    ProxyOptions proxy = ProxyOptions.DEFAULTS
        .withBindHost(arguments.get("--bind", ProxyOptions.DEFAULTS.bindHost()))
        .withPortOffset(arguments.getInt(command, "--port-offset", ProxyOptions.DEFAULTS.portOffset(),
            0, 64_000));
    if (arguments.has("--upstream-timeout")) {
      String value = arguments.get("--upstream-timeout", null);
      long millis;
      try {
        millis = io.portico.resource.GoDuration.parse(value).toMillis();
      } catch (IllegalArgumentException e) {
        throw new Arguments.UsageException(command + ": --upstream-timeout " + value
            + " (expected: a duration such as 500ms, 15s, 2m)");
      }
      if (millis <= 0 || millis > Integer.MAX_VALUE) {
        throw new Arguments.UsageException(command + ": --upstream-timeout must be positive");
      }
      proxy = proxy.withUpstreamIdleTimeoutMillis((int) millis);
    }
    ClientLimits client = proxy.client();
    client = client.withRequestHeadersTimeoutMillis(duration(command, arguments,
        "--request-headers-timeout", client.requestHeadersTimeoutMillis(), false));
    client = client.withIdleTimeoutMillis(duration(command, arguments, "--client-idle-timeout",
        client.idleTimeoutMillis(), false));
    client = client.withHttp2MaxConnectionAgeMillis(duration(command, arguments,
        "--http2-max-connection-age", client.http2MaxConnectionAgeMillis(), true));
    client = client.withTlsHandshakeTimeoutMillis(duration(command, arguments,
        "--tls-handshake-timeout", client.tlsHandshakeTimeoutMillis(), false));
    client = client.withConnectionLimit(arguments.getInt(command, "--client-connection-limit",
        client.connectionLimit(), 1, 10_000_000));
    proxy = proxy.withClient(client);
    String bind = proxy.bindHost();
    String reported = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
    TranslatorOptions translator;
    try {
      translator = new TranslatorOptions(
          arguments.get("--controller-name", TranslatorOptions.DEFAULT_CONTROLLER_NAME), reported,
          arguments.get("--gateway-address-pool", null));
    } catch (IllegalArgumentException e) {
      throw new Arguments.UsageException(command + ": --gateway-address-pool: " + e.getMessage());
    }
    // Without a directory (--kubernetes), KubernetesMode replaces the placeholder directory.
    PorticoOptions options = PorticoOptions.forDirectory(config != null ? config : Path.of("."))
        .withProxy(proxy)
        .withTranslator(translator)
        .withEventLoops(arguments.getInt(command, "--event-loops",
            Math.max(1, Runtime.getRuntime().availableProcessors()), 1, 1024))
        .withMetrics(!arguments.has("--no-metrics"));
    String admin = arguments.get("--admin", "127.0.0.1:9901");
    if (admin.equals("off")) {
      return options.withAdmin(null, 0);
    }
    int colon = admin.lastIndexOf(':');
    if (colon <= 0) {
      throw new Arguments.UsageException(command + ": --admin " + admin
          + " (expected: HOST:PORT or off)");
    }
    String host = admin.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(admin.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new Arguments.UsageException(command + ": --admin " + admin + " (expected: HOST:PORT or off)");
    }
    return options.withAdmin(host, port);
  }
}
