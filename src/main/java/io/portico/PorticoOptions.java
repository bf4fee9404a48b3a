package io.portico;

import io.portico.proxy.ProxyOptions;
import io.portico.translate.TranslatorOptions;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything needed to start a gateway process.
 *
 * @param configDirectory the directory of Kubernetes YAML served in standalone mode; null in
 *     Kubernetes mode
 * @param translator translator settings (controller name, reported address)
 * @param proxy proxy settings (bind address, port offset, timeouts)
 * @param adminHost the admin API's address, or null for no admin API
 * @param adminPort the admin API's port (0 picks a free one)
 * @param eventLoops the number of proxy verticle instances, one per event loop
 * @param metrics whether to collect Vert.x metrics for Prometheus
 * @param kubernetes Kubernetes mode (watch the API server, write status) instead of a directory;
 *     null in standalone mode
 */
public record PorticoOptions(Path configDirectory, TranslatorOptions translator,
    ProxyOptions proxy, String adminHost, int adminPort, int eventLoops, boolean metrics,
    KubernetesOptions kubernetes) {

  public PorticoOptions {
    if ((configDirectory == null) == (kubernetes == null)) {
      throw new IllegalArgumentException(
          "exactly one of configDirectory and kubernetes is needed, got " + configDirectory
              + " and " + kubernetes);
    }
    Objects.requireNonNull(translator, "translator");
    Objects.requireNonNull(proxy, "proxy");
    if (eventLoops < 1) {
      throw new IllegalArgumentException("eventLoops: " + eventLoops + " (expected: >= 1)");
    }
  }

  public PorticoOptions(Path configDirectory, TranslatorOptions translator, ProxyOptions proxy,
      String adminHost, int adminPort, int eventLoops, boolean metrics) {
    this(configDirectory, translator, proxy, adminHost, adminPort, eventLoops, metrics, null);
  }

  public static PorticoOptions forDirectory(Path configDirectory) {
    Objects.requireNonNull(configDirectory, "configDirectory");
    return new PorticoOptions(configDirectory, TranslatorOptions.DEFAULTS, ProxyOptions.DEFAULTS,
        "127.0.0.1", 9901, Math.max(1, Runtime.getRuntime().availableProcessors()), true, null);
  }

  /** Returns options that watch a cluster instead of a directory. */
  public static PorticoOptions forKubernetes(KubernetesOptions kubernetes) {
    Objects.requireNonNull(kubernetes, "kubernetes");
    return new PorticoOptions(null, TranslatorOptions.DEFAULTS, ProxyOptions.DEFAULTS,
        "127.0.0.1", 9901, Math.max(1, Runtime.getRuntime().availableProcessors()), true,
        kubernetes);
  }

  public PorticoOptions withProxy(ProxyOptions proxy) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics, kubernetes);
  }

  /** Returns the same options serving {@code directory} instead (standalone mode only). */
  public PorticoOptions withConfigDirectory(Path directory) {
    return new PorticoOptions(Objects.requireNonNull(directory, "directory"), translator, proxy,
        adminHost, adminPort, eventLoops, metrics, kubernetes);
  }

  public PorticoOptions withAdmin(String host, int port) {
    return new PorticoOptions(configDirectory, translator, proxy, host, port, eventLoops, metrics,
        kubernetes);
  }

  public PorticoOptions withEventLoops(int eventLoops) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics, kubernetes);
  }

  public PorticoOptions withTranslator(TranslatorOptions translator) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics, kubernetes);
  }

  public PorticoOptions withKubernetes(KubernetesOptions kubernetes) {
    return new PorticoOptions(kubernetes == null ? configDirectory : null, translator, proxy,
        adminHost, adminPort, eventLoops, metrics, kubernetes);
  }

  public PorticoOptions withMetrics(boolean metrics) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics, kubernetes);
  }
}
