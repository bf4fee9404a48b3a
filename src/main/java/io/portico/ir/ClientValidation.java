package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.List;
import java.util.Objects;

/**
 * How an HTTPS port validates client certificates (Gateway API
 * {@code spec.tls.frontend.default / perPort[].tls.validation}).
 *
 * @param caSources the ConfigMaps the CA certificates came from, as {@code namespace/name}
 * @param caCertificatesPem the trusted CA certificates, PEM, concatenated
 * @param allowInsecureFallback {@code mode: AllowInsecureFallback}: a certificate is asked
 *     for, but connections without a valid one are still served; false
 *     ({@code AllowValidOnly}, the default) refuses them during the handshake
 */
public record ClientValidation(List<String> caSources, @JsonIgnore String caCertificatesPem,
    boolean allowInsecureFallback) {

  public ClientValidation {
    caSources = List.copyOf(caSources);
    Objects.requireNonNull(caCertificatesPem, "caCertificatesPem");
  }
}
