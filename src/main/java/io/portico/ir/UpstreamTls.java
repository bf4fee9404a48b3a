package io.portico.ir;

import java.util.List;
import java.util.Objects;

/**
 * How Portico speaks TLS to one backend port, from the BackendTLSPolicy that targets it.
 *
 * @param hostname the TLS server name sent (SNI), and the name the certificate must carry when
 *     {@code subjectAltNames} is empty
 * @param caPem the CA certificates (PEM) that must sign the backend's certificate; null means the
 *     JDK's default trust store ({@code wellKnownCACertificates: System})
 * @param subjectAltNames names of which the certificate must carry one instead of matching
 *     {@code hostname}: {@code DNS:<hostname>} or {@code URI:<uri>}
 * @param invalid why the policy cannot be used (no valid CA certificate ...), or null; traffic to
 *     the port then fails rather than going out unverified or in cleartext
 */
public record UpstreamTls(String hostname, String caPem, List<String> subjectAltNames,
    String invalid) {

  public UpstreamTls {
    Objects.requireNonNull(hostname, "hostname");
    subjectAltNames = List.copyOf(subjectAltNames);
  }

  /** A policy that targets the port but cannot be used. */
  public static UpstreamTls invalid(String hostname, String reason) {
    return new UpstreamTls(hostname == null ? "" : hostname, null, List.of(), reason);
  }

  public boolean usable() {
    return invalid == null;
  }
}
