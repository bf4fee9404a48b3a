package io.portico.conformance;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.io.StringReader;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Builds the TLS client context a request step asks for: trusting the certificate of a served
 * Secret ({@code tls.crt}) or the CA of a served ConfigMap ({@code ca.crt}), optionally offering
 * a client certificate from a served Secret.
 */
final class TrustMaterial {

  private TrustMaterial() {
  }

  /** Returns a context trusting {@code reference} ({@code namespace/name}). */
  static SSLContext trusting(ManifestStore store, String reference) {
    return context(trustManagers(store, reference), null);
  }

  /**
   * Returns the trust manager trusting {@code reference} ({@code namespace/name}), for clients
   * that take one rather than a context.
   */
  static TrustManager trustManager(ManifestStore store, String reference) {
    return trustManagers(store, reference)[0];
  }

  /**
   * The client side of one TLS handshake: a fresh context (so no session is resumed and the
   * server asks for a client certificate again) and whether the server asked for one.
   */
  record ClientTls(SSLContext context, AtomicBoolean certificateRequested) {}

  /**
   * Returns a new client context trusting {@code trust} that offers the certificate and key of
   * the Secret {@code clientCert} (or, when null, no certificate) whenever the server asks,
   * whatever CAs the server names (like Go's GetClientCertificate callback), and records that
   * it was asked.
   */
  static ClientTls client(ManifestStore store, String trust, String clientCert) {
    TrustManager[] trustManagers = trustManagers(store, trust);
    AtomicBoolean requested = new AtomicBoolean();
    ClientKeys keys = clientCert == null ? null : clientKeys(store, clientCert);
    return new ClientTls(context(trustManagers, new RecordingKeyManager(keys, requested)),
        requested);
  }

  private static SSLContext context(TrustManager[] trustManagers, KeyManager keyManager) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManager == null ? null : new KeyManager[] {keyManager}, trustManagers,
          null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new StepFailure("TLS client context: " + e);
    }
  }

  private record ClientKeys(X509Certificate[] chain, PrivateKey key) {}

  private static ClientKeys clientKeys(ManifestStore store, String reference) {
    String[] ref = CaseContext.ref(reference);
    Map<String, Object> secret = store.find("Secret", ref[0], ref[1]);
    if (secret == null) {
      throw new StepFailure("clientCert " + reference + ": no such Secret is served");
    }
    Map<String, Object> data = Yaml.map(secret.get("data"));
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate certificate : CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(
              Base64.getDecoder().decode(Yaml.string(data.get("tls.crt")))))) {
        chain.add((X509Certificate) certificate);
      }
      Object parsed;
      try (PEMParser parser = new PEMParser(new StringReader(new String(
          Base64.getDecoder().decode(Yaml.string(data.get("tls.key"))),
          StandardCharsets.US_ASCII)))) {
        parsed = parser.readObject();
      }
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      PrivateKey key = parsed instanceof PEMKeyPair pair
          ? converter.getKeyPair(pair).getPrivate()
          : converter.getPrivateKey((PrivateKeyInfo) parsed);
      return new ClientKeys(chain.toArray(new X509Certificate[0]), key);
    } catch (GeneralSecurityException | java.io.IOException | RuntimeException e) {
      throw new StepFailure("clientCert " + reference + ": " + e);
    }
  }

  /** Offers one client certificate (or none) and records every request for one. */
  private static final class RecordingKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "client";
    private final ClientKeys keys;
    private final AtomicBoolean requested;

    RecordingKeyManager(ClientKeys keys, AtomicBoolean requested) {
      this.keys = keys;
      this.requested = requested;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      requested.set(true);
      return keys == null ? null : ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers,
        SSLEngine engine) {
      requested.set(true);
      return keys == null ? null : ALIAS;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return keys == null ? null : new String[] {ALIAS};
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys != null && ALIAS.equals(alias) ? keys.chain().clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return keys != null && ALIAS.equals(alias) ? keys.key() : null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }

  private static TrustManager[] trustManagers(ManifestStore store, String reference) {
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
      return factory.getTrustManagers();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new StepFailure("trust " + reference + ": " + e);
    }
  }
}
