package io.portico.proxy.tls;

import io.portico.ir.UpstreamTls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Checks a backend's certificate the way a BackendTLSPolicy asks: the chain must lead to one of
 * the policy's CA certificates (or the JDK's default trust store for
 * {@code wellKnownCACertificates: System}), and the certificate must carry the policy's
 * hostname, or, when {@code subjectAltNames} are given, one of those instead.
 *
 * <p>The name is checked here rather than by the TLS engine's endpoint identification because
 * the connection goes to a pod IP while the name to check is the policy's.
 */
public final class UpstreamTrustManager extends X509ExtendedTrustManager {

  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  private final UpstreamTls tls;
  private final X509ExtendedTrustManager delegate;

  public UpstreamTrustManager(UpstreamTls tls) {
    this.tls = tls;
    this.delegate = PkixTrust.trustManager(tls.caPem());
  }



  private void check(X509Certificate[] chain, String authType) throws CertificateException {
    // The two-argument form: chain validation only, no endpoint identification against the IP.
    delegate.checkServerTrusted(chain, authType);
    X509Certificate leaf = chain[0];
    List<String> dns = new ArrayList<>();
    List<String> uris = new ArrayList<>();
    names(leaf, dns, uris);
    if (tls.subjectAltNames().isEmpty()) {
      if (!matchesAny(tls.hostname(), dns)) {
        throw new CertificateException("backend certificate does not match hostname "
            + tls.hostname() + " (DNS names " + dns + ")");
      }
      return;
    }
    for (String san : tls.subjectAltNames()) {
      if (san.startsWith("DNS:") && matchesAny(san.substring(4), dns)
          || san.startsWith("URI:") && uris.contains(san.substring(4))) {
        return;
      }
    }
    throw new CertificateException("backend certificate carries none of the subjectAltNames "
        + tls.subjectAltNames() + " (DNS names " + dns + ", URIs " + uris + ")");
  }

  private static void names(X509Certificate certificate, List<String> dns, List<String> uris)
      throws CertificateParsingException {
    Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
    if (sans == null) {
      return;
    }
    for (List<?> san : sans) {
      if (san.size() < 2 || !(san.get(0) instanceof Integer type)) {
        continue;
      }
      if (type == SAN_DNS) {
        dns.add(String.valueOf(san.get(1)));
      } else if (type == SAN_URI) {
        uris.add(String.valueOf(san.get(1)));
      }
    }
  }

  /** Matches a name against certificate DNS names; {@code *.x} covers exactly one label. */
  static boolean matchesAny(String name, List<String> certificateNames) {
    String wanted = name.toLowerCase(Locale.ROOT);
    for (String certificateName : certificateNames) {
      String pattern = certificateName.toLowerCase(Locale.ROOT);
      if (pattern.equals(wanted)) {
        return true;
      }
      if (pattern.startsWith("*.")) {
        int dot = wanted.indexOf('.');
        if (dot > 0 && wanted.substring(dot).equals(pattern.substring(1))) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain, authType);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("an upstream trust manager checks only servers");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("an upstream trust manager checks only servers");
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("an upstream trust manager checks only servers");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }
}
