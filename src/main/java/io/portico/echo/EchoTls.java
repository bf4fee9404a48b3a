package io.portico.echo;

import java.util.Objects;

/**
 * The TLS material of an HTTPS echo port: it answers HTTP/1.1 and h2 (ALPN) and, when a client
 * CA is given, verifies a client certificate if one is offered (none is required).
 *
 * @param certificatePem the server certificate chain (PEM)
 * @param keyPem its private key (PEM, PKCS#1 or PKCS#8)
 * @param clientCaPem the CA certificates client certificates must chain to, or null
 */
public record EchoTls(String certificatePem, String keyPem, String clientCaPem) {

  public EchoTls {
    Objects.requireNonNull(certificatePem, "certificatePem");
    Objects.requireNonNull(keyPem, "keyPem");
  }
}
