package io.portico.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.portico.KubernetesOptions;
import io.portico.Portico;
import io.portico.PorticoOptions;
import io.portico.provider.CompactSerialization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutionException;

/** {@code run --kubernetes}: serve what the API server holds and write status back. */
final class KubernetesMode {

  private static final Logger LOG = LoggerFactory.getLogger(KubernetesMode.class);

  /**
   * Request retries of the client. fabric8's default (10, backing off from 100 ms) makes an
   * unreachable API server take minutes to report at start; informers reconnect on their own and
   * a failed status write is retried with the next report, so a few retries are enough.
   */
  private static final int REQUEST_RETRIES = 3;

  private KubernetesMode() {
  }

  static int run(String command, PorticoOptions standalone) {
    Config config;
    try {
      config = Config.autoConfigure(null);
    } catch (RuntimeException e) {
      System.err.println("portico " + command + ": no Kubernetes configuration (kubeconfig or"
          + " in-cluster service account): " + e.getMessage());
      return Main.EXIT_FAILED;
    }
    config.setRequestRetryBackoffLimit(REQUEST_RETRIES);
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config)
        .withKubernetesSerialization(CompactSerialization.create()).build();
    KubernetesOptions kubernetes = KubernetesOptions.detect(client);
    PorticoOptions options = standalone.withKubernetes(kubernetes);
    try {
      Portico portico = GatewayCommand.startUntilExit(options, client::close);
      LOG.info("Portico is serving the cluster at {} (status Lease {}/{} as {}; admin: {})",
          client.getMasterUrl(), kubernetes.lease().namespace(), kubernetes.lease().name(),
          kubernetes.lease().identity(),
          options.adminHost() == null ? "off" : options.adminHost() + ":" + portico.adminPort());
      return Main.EXIT_OK;
    } catch (ExecutionException e) {
      client.close();
      System.err.println("portico " + command + ": could not start: " + e.getCause().getMessage());
      return Main.EXIT_FAILED;
    } catch (InterruptedException e) {
      client.close();
      Thread.currentThread().interrupt();
      return Main.EXIT_FAILED;
    }
  }
}
