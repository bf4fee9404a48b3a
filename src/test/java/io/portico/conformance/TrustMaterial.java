package io.portico.conformance;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Builds the TLS client context a request step asks for: trusting the certificate of a served
 * Secret ({@code tls.crt}) or the CA of a served ConfigMap ({@code ca.crt}).
 */
final class TrustMaterial {

  private TrustMaterial() {
  }

  /** Returns a context trusting {@code reference} ({@code namespace/name}). */
  static SSLContext trusting(ManifestStore store, String reference) {
    if (reference == null) {
      throw new StepFailure("HTTPS request without trust: the runner has no default trust");
    }
    String[] ref = CaseContext.ref(reference);
    String pem;
    Map<String, Object> secret = store.find("Secret", ref[0], ref[1]);
    if (secret != null) {
      pem = new String(Base64.getDecoder().decode(
          Yaml.string(Yaml.map(secret.get("data")).get("tls.crt"))), StandardCharsets.US_ASCII);
    } else {
      Map<String, Object> configMap = store.find("ConfigMap", ref[0], ref[1]);
      if (configMap == null) {
        throw new StepFailure("trust " + reference + ": no such Secret or ConfigMap is served");
      }
      pem = Yaml.string(Yaml.map(configMap.get("data")).get("ca.crt"));
    }
    try {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int i = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        trusted.setCertificateEntry("trusted-" + i++, certificate);
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new StepFailure("trust " + reference + ": " + e);
    }
  }
}
