package io.portico;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.portico.provider.FileProvider;
import io.portico.status.StatusWriter;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.UUID;

/**
 * How a gateway in Kubernetes mode reaches the API server and elects its status writer.
 *
 * @param client the client to watch and write with (kubeconfig or in-cluster service account,
 *     see cli/KubernetesMode); its owner closes it
 * @param lease the leader Lease that decides which replica writes status
 * @param coalescing how bursts of cluster changes are coalesced into one snapshot
 */
public record KubernetesOptions(KubernetesClient client, StatusWriter.LeaseOptions lease,
    FileProvider.Options coalescing) {

  /** The Lease's name unless told otherwise. */
  public static final String LEASE_NAME = "portico";

  public KubernetesOptions {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(lease, "lease");
    Objects.requireNonNull(coalescing, "coalescing");
  }

  /**
   * Returns options for a process in (or pointed at) a cluster: the Lease {@code portico} in
   * {@code POD_NAMESPACE} (else the client configuration's namespace, else {@code default}),
   * named after {@code POD_NAME} (else the host name plus a random suffix).
   */
  public static KubernetesOptions detect(KubernetesClient client) {
    String namespace = System.getenv("POD_NAMESPACE");
    if (isBlank(namespace)) {
      namespace = client.getNamespace();
    }
    if (isBlank(namespace)) {
      namespace = "default";
    }
    String identity = System.getenv("POD_NAME");
    if (isBlank(identity)) {
      identity = hostName() + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
    return new KubernetesOptions(client, StatusWriter.LeaseOptions.of(namespace, LEASE_NAME,
        identity), io.portico.provider.KubernetesProvider.COALESCING);
  }

  public KubernetesOptions withLease(StatusWriter.LeaseOptions lease) {
    return new KubernetesOptions(client, lease, coalescing);
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "portico";
    }
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
