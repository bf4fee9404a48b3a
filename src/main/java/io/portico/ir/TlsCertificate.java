package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.Objects;

/**
 * A certificate an HTTPS listener presents, taken from a {@code kubernetes.io/tls} Secret of
 * the current snapshot (Gateway API {@code listeners[].tls.certificateRefs}). The PEM is kept as
 * text so a changed Secret gives a new, unequal table and new handshakes use it.
 *
 * @param name the Secret as {@code namespace/name}
 * @param certificatePem {@code tls.crt}: the leaf certificate, then intermediates
 * @param keyPem {@code tls.key}: the private key (PKCS#8 or PKCS#1); never printed
 */
public record TlsCertificate(String name, @JsonIgnore String certificatePem,
    @JsonIgnore String keyPem) {

  public TlsCertificate {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(certificatePem, "certificatePem");
    Objects.requireNonNull(keyPem, "keyPem");
  }

  @Override
  public String toString() {
    return "TlsCertificate[" + name + "]";
  }
}
