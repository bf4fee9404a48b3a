package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;
import java.util.Objects;

/**
 * One Gateway listener that accepted at least zero routes, with its virtual hosts. Requests on
 * the listener's port are first given to the listener whose hostname matches most specifically
 * (Gateway API listener isolation), then to that listener's most specific virtual host.
 *
 * @param name deterministic name, e.g. {@code gateway/gateway-system/public/listener/http}
 * @param source the Gateway and listener section it came from
 * @param hostname the listener's hostname (exact or {@code *.} wildcard), or null for any host
 * @param tls the certificate of an HTTPS listener (TLS terminated here); null for HTTP
 * @param clientValidation how clients' certificates are validated on this HTTPS listener's
 *     port; null when they are not asked for
 * @param backendClientCertificate the certificate presented to backends reached with TLS
 *     (BackendTLSPolicy) from this listener: its Gateway's
 *     {@code spec.tls.backend.clientCertificateRef}; null for none. It is a property of the
 *     Gateway, kept per listener because listeners of several Gateways may share one port
 * @param virtualHosts one per distinct intersected host name pattern
 */
public record Listener(String name, SourceRef source, String hostname, TlsCertificate tls,
    ClientValidation clientValidation, TlsCertificate backendClientCertificate,
    List<VirtualHost> virtualHosts, @JsonIgnore HostIndex<VirtualHost> hostIndex) {

  public Listener(String name, SourceRef source, String hostname, TlsCertificate tls,
      ClientValidation clientValidation, TlsCertificate backendClientCertificate,
      List<VirtualHost> virtualHosts) {
    this(name, source, hostname, tls, clientValidation, backendClientCertificate,
        List.copyOf(virtualHosts),
        HostIndex.build(List.copyOf(virtualHosts), VirtualHost::hostname));
  }

  public Listener(String name, SourceRef source, String hostname, TlsCertificate tls,
      ClientValidation clientValidation, List<VirtualHost> virtualHosts) {
    this(name, source, hostname, tls, clientValidation, null, virtualHosts);
  }

  public Listener(String name, SourceRef source, String hostname, List<VirtualHost> virtualHosts) {
    this(name, source, hostname, null, null, virtualHosts);
  }

  public Listener {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    virtualHosts = List.copyOf(virtualHosts);
    Objects.requireNonNull(hostIndex, "hostIndex");
  }

  /** Returns the virtual host for a request host name, or null when none covers it. */
  public VirtualHost findVirtualHost(String host) {
    return hostIndex.find(host);
  }

  // The index is derived from virtualHosts: leave it out of equality.
  @Override
  public boolean equals(Object o) {
    return o instanceof Listener other && other.name.equals(name) && other.source.equals(source)
        && Objects.equals(other.hostname, hostname) && Objects.equals(other.tls, tls)
        && Objects.equals(other.clientValidation, clientValidation)
        && Objects.equals(other.backendClientCertificate, backendClientCertificate)
        && other.virtualHosts.equals(virtualHosts);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, source, hostname, tls, clientValidation, backendClientCertificate,
        virtualHosts);
  }
}
