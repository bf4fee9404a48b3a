package io.portico.proxy.tls;

import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.ir.TlsCertificate;
import io.portico.tls.PemCertificate;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.HashMap;

import java.util.Map;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Picks the certificate of an HTTPS port from the current routing table by the client's SNI
 * name, at every handshake. One instance per bound port: a table swap hands it the new port
 * ({@link #use}), so a changed Secret serves new handshakes without a restart, and memory holds
 * one parsed certificate per listener whatever names clients send (Vert.x's own SNI mode keeps
 * a TLS context per requested name).
 */
public final class SniKeyManager extends X509ExtendedKeyManager {

  /** What one table gives: the port, and its listeners' certificates by Secret name. */
  private record State(HttpPort port, Map<String, PemCertificate> certificates, String fallback) {
  }

  private volatile State state = new State(null, Map.of(), null);

  /**
   * Serves {@code port}'s certificates from now on. Certificates unchanged since the last call
   * are not parsed again.
   */
  public void use(HttpPort port) {
    Map<String, PemCertificate> previous = state.certificates();
    Map<String, TlsCertificate> sources = new HashMap<>();
    Map<String, PemCertificate> certificates = new HashMap<>();
    String fallback = null;
    for (Listener listener : port.listeners()) {
      TlsCertificate tls = listener.tls();
      if (tls == null) {
        continue;
      }
      String alias = alias(tls);
      sources.put(alias, tls);
      PemCertificate parsed = previous.get(alias);
      certificates.put(alias, parsed != null ? parsed
          : PemCertificate.parse(tls.certificatePem(), tls.keyPem()));
      // A client without SNI gets the listener that takes any host, else the first one.
      if (fallback == null || listener.hostname() == null) {
        fallback = alias;
      }
    }
    state = new State(port, Map.copyOf(certificates), fallback);
  }

  /** The alias names the certificate's content, so a changed Secret is a new alias. */
  private static String alias(TlsCertificate tls) {
    return tls.name() + "#" + Integer.toHexString(tls.certificatePem().hashCode())
        + Integer.toHexString(tls.keyPem().hashCode());
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    State current = state;
    String alias = current.fallback();
    String serverName = requestedServerName(engine.getHandshakeSession());
    if (serverName != null && current.port() != null) {
      Listener listener = current.port().findListener(serverName);
      if (listener != null && listener.tls() != null) {
        alias = alias(listener.tls());
      }
    }
    PemCertificate certificate = alias == null ? null : current.certificates().get(alias);
    return certificate != null && matches(keyType, certificate.key()) ? alias : null;
  }

  /** Returns the SNI host name the client sent, or null. */
  public static String requestedServerName(SSLSession session) {
    if (!(session instanceof ExtendedSSLSession extended)) {
      return null;
    }
    for (SNIServerName name : extended.getRequestedServerNames()) {
      if (name instanceof SNIHostName host) {
        return host.getAsciiName();
      }
    }
    return null;
  }

  private static boolean matches(String keyType, PrivateKey key) {
    String algorithm = key.getAlgorithm();
    return keyType.equals(algorithm) || algorithm.equals("RSA") && keyType.startsWith("RSA")
        || algorithm.equals("EC") && keyType.startsWith("EC");
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    PemCertificate certificate = state.certificates().get(alias);
    return certificate == null ? null : certificate.chain().toArray(X509Certificate[]::new);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    PemCertificate certificate = state.certificates().get(alias);
    return certificate == null ? null : certificate.key();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return state.certificates().keySet().toArray(String[]::new);
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    State current = state;
    return current.fallback();
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return null;
  }

}
