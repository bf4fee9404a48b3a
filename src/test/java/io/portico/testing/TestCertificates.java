package io.portico.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/** Generates self-signed RSA certificates for TLS tests, as PEM and as Secret YAML. */
public final class TestCertificates {

  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A generated certificate: PEM text of the certificate and of its PKCS#1 key. */
  public record Pem(String certificate, String key, X509Certificate x509, PrivateKey privateKey) {

    /** Returns a ConfigMap with this certificate as {@code ca.crt}. */
    public String caConfigMapYaml(String namespace, String name) {
      return """
          apiVersion: v1
          kind: ConfigMap
          metadata: {name: %s, namespace: %s}
          data:
            ca.crt: |
          %s""".formatted(name, namespace, certificate.indent(4));
    }

    /** Returns a {@code kubernetes.io/tls} Secret holding this certificate. */
    public String secretYaml(String namespace, String name) {
      Base64.Encoder base64 = Base64.getEncoder();
      return """
          apiVersion: v1
          kind: Secret
          metadata: {name: %s, namespace: %s}
          type: kubernetes.io/tls
          data:
            tls.crt: %s
            tls.key: %s
          """.formatted(name, namespace, base64.encodeToString(certificate.getBytes()),
          base64.encodeToString(key.getBytes()));
    }
  }

  private TestCertificates() {
  }

  /** Returns a self-signed server certificate for {@code dnsNames} (the first is the CN). */
  public static Pem selfSigned(String... dnsNames) {
    return issue(null, false, dnsNames[0], dnsNames);
  }

  /** Returns a self-signed CA certificate. */
  public static Pem certificateAuthority(String commonName) {
    return issue(null, true, commonName);
  }

  /** Returns a server certificate for {@code dnsNames} (the first is the CN) signed by {@code ca}. */
  public static Pem serverCertificate(Pem ca, String... dnsNames) {
    return issue(ca, false, dnsNames[0], dnsNames);
  }

  /** Returns a client certificate signed by {@code ca}. */
  public static Pem clientCertificate(Pem ca, String commonName) {
    return issue(ca, false, commonName);
  }

  private static Pem issue(Pem issuer, boolean ca, String commonName, String... dnsNames) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      KeyPair keys = generator.generateKeyPair();
      X500Name subject = new X500Name("CN=" + commonName + ",O=Portico tests");
      X500Name issuerName = issuer == null ? subject
          : X500Name.getInstance(issuer.x509().getSubjectX500Principal().getEncoded());
      Instant now = Instant.now();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(1, ChronoUnit.DAYS)),
          Date.from(now.plus(30, ChronoUnit.DAYS)), subject, keys.getPublic());
      if (dnsNames.length > 0) {
        GeneralName[] names = new GeneralName[dnsNames.length];
        for (int i = 0; i < dnsNames.length; i++) {
          names[i] = new GeneralName(GeneralName.dNSName, dnsNames[i]);
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
      PrivateKey signer = issuer == null ? keys.getPrivate() : issuer.privateKey();
      X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer)));
      return new Pem(pem(certificate), pem(keys.getPrivate()), certificate, keys.getPrivate());
    } catch (Exception e) {
      throw new IllegalStateException("cannot generate a test certificate", e);
    }
  }

  private static String pem(Object object) throws java.io.IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
