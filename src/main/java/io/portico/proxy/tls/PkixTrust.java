package io.portico.proxy.tls;

import io.portico.tls.PemCertificate;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** Builds the JDK's PKIX trust manager over PEM CA certificates. */
final class PkixTrust {

  private PkixTrust() {
  }

  /**
   * Returns a trust manager trusting the CERTIFICATE blocks of {@code caPem}, or the JDK's
   * default trust store when it is null.
   *
   * @throws IllegalArgumentException when the certificates cannot be used
   */
  static X509ExtendedTrustManager trustManager(String caPem) {
    try {
      KeyStore store = null;
      if (caPem != null) {
        store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        List<X509Certificate> certificates = PemCertificate.certificates(caPem);
        for (int i = 0; i < certificates.size(); i++) {
          store.setCertificateEntry("ca-" + i, certificates.get(i));
        }
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store); // null: the JDK's default trust store
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509ExtendedTrustManager extended) {
          return extended;
        }
      }
      throw new IllegalStateException("no X509 trust manager available");
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("CA certificates unusable: " + e.getMessage(), e);
    }
  }
}
