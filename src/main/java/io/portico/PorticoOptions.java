package io.portico;

import io.portico.proxy.ProxyOptions;
import io.portico.translate.TranslatorOptions;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything needed to start a gateway process.
 *
 * @param configDirectory the directory of Kubernetes YAML served in standalone mode
 * @param translator translator settings (controller name, reported address)
 * @param proxy proxy settings (bind address, port offset, timeouts)
 * @param adminHost the admin API's address, or null for no admin API
 * @param adminPort the admin API's port (0 picks a free one)
 * @param eventLoops the number of proxy verticle instances, one per event loop
 * @param metrics whether to collect Vert.x metrics for Prometheus
 */
public record PorticoOptions(Path configDirectory, TranslatorOptions translator,
    ProxyOptions proxy, String adminHost, int adminPort, int eventLoops, boolean metrics) {

  public PorticoOptions {
    Objects.requireNonNull(configDirectory, "configDirectory");
    Objects.requireNonNull(translator, "translator");
    Objects.requireNonNull(proxy, "proxy");
    if (eventLoops < 1) {
      throw new IllegalArgumentException("eventLoops: " + eventLoops + " (expected: >= 1)");
    }
  }

  public static PorticoOptions forDirectory(Path configDirectory) {
    return new PorticoOptions(configDirectory, TranslatorOptions.DEFAULTS, ProxyOptions.DEFAULTS,
        "127.0.0.1", 9901, Math.max(1, Runtime.getRuntime().availableProcessors()), true);
  }

  public PorticoOptions withProxy(ProxyOptions proxy) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics);
  }

  public PorticoOptions withAdmin(String host, int port) {
    return new PorticoOptions(configDirectory, translator, proxy, host, port, eventLoops, metrics);
  }

  public PorticoOptions withEventLoops(int eventLoops) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics);
  }

  public PorticoOptions withTranslator(TranslatorOptions translator) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics);
  }

  public PorticoOptions withMetrics(boolean metrics) {
    return new PorticoOptions(configDirectory, translator, proxy, adminHost, adminPort, eventLoops,
        metrics);
  }
}
