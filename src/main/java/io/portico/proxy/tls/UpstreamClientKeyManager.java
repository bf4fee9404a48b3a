package io.portico.proxy.tls;

import io.portico.ir.TlsCertificate;
import io.portico.tls.PemCertificate;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Presents one client certificate (a Gateway's {@code spec.tls.backend.clientCertificateRef})
 * whenever a backend asks for one. The certificate is offered whatever issuers the backend
 * names: it is the Gateway's one identity, and the backend decides whether it trusts it.
 */
public final class UpstreamClientKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "gateway-backend-client";

  private final PemCertificate certificate;

  /** @throws IllegalArgumentException when the PEM does not parse (the translator checked it) */
  public UpstreamClientKeyManager(TlsCertificate certificate) {
    this.certificate = PemCertificate.parse(certificate.certificatePem(), certificate.keyPem());
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return ALIAS;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return ALIAS;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? certificate.chain().toArray(new X509Certificate[0]) : null;
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? certificate.key() : null;
  }
}
