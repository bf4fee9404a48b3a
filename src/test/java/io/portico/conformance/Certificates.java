package io.portico.conformance;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Generates the certificates of {@code infrastructure.yaml}'s {@code generatedSecrets} as the
 * upstream suite setup does: CAs published as ConfigMaps ({@code ca.crt}), leaf certificates as
 * {@code kubernetes.io/tls} Secrets (PEM, PKCS#1 key), self-signed or signed by a named CA.
 */
final class Certificates {

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern DNS = Pattern.compile(
      "(\\*\\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Duration VALIDITY = Duration.ofDays(365);

  private record Issuer(X500Name name, KeyPair keys) {}

  private final SecureRandom random = new SecureRandom();
  private final Map<String, Issuer> cas = new HashMap<>();

  private Certificates() {
  }

  /** Returns the Secrets and ConfigMaps for the {@code generatedSecrets} list. */
  static List<Map<String, Object>> generate(List<Object> generatedSecrets) {
    Certificates certificates = new Certificates();
    List<Map<String, Object>> objects = new ArrayList<>();
    // CAs first: a Secret may be listed before the ConfigMap of the CA that signs it.
    for (Object item : generatedSecrets) {
      Map<String, Object> entry = Yaml.map(item);
      if ("ConfigMap".equals(entry.get("kind"))) {
        String pem = certificates.ca(Yaml.string(entry.get("ca")));
        objects.add(object("ConfigMap", entry, Map.of("data",
            Map.of(Yaml.string(entry.get("key")), pem))));
      }
    }
    for (Object item : generatedSecrets) {
      Map<String, Object> entry = Yaml.map(item);
      if ("Secret".equals(entry.get("kind"))) {
        String[] pems = certificates.leaf(Yaml.strings(entry.get("hosts")),
            Yaml.string(entry.get("signedBy")), "clientAuth".equals(entry.get("usage")));
        Base64.Encoder base64 = Base64.getEncoder();
        objects.add(object("Secret", entry, Map.of(
            "type", Yaml.string(entry.get("type")),
            "data", Map.of("tls.crt", base64.encodeToString(pems[0].getBytes()),
                "tls.key", base64.encodeToString(pems[1].getBytes())))));
      }
    }
    return objects;
  }

  private static Map<String, Object> object(String kind, Map<String, Object> entry,
      Map<String, Object> content) {
    Map<String, Object> object = new LinkedHashMap<>();
    object.put("apiVersion", "v1");
    object.put("kind", kind);
    object.put("metadata", Map.of("name", entry.get("name"), "namespace", entry.get("namespace")));
    object.putAll(content);
    return object;
  }

  private String ca(String label) {
    try {
      KeyPair keys = rsa();
      X500Name name = new X500Name("C=US,O=Kubernetes Gateway API,CN=gatewayapi");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name,
          BigInteger.valueOf(2024), Date.from(now), Date.from(now.plus(VALIDITY)), name,
          keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
          new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth}));
      String pem = pem(builder.build(new JcaContentSignerBuilder("SHA256withRSA")
          .build(keys.getPrivate())));
      cas.put(label, new Issuer(name, keys));
      return pem;
    } catch (GeneralSecurityException | IOException
        | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("CA " + label + ": " + e, e);
    }
  }

  /** Returns {certificate PEM, PKCS#1 key PEM}. */
  private String[] leaf(List<String> hosts, String signedBy, boolean client) {
    try {
      KeyPair keys = rsa();
      X500Name subject = new X500Name("O=Acme Co,CN=default");
      Issuer issuer = "self".equals(signedBy) ? new Issuer(subject, keys) : cas.get(signedBy);
      if (issuer == null) {
        throw new IllegalArgumentException("unknown CA " + signedBy);
      }
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer.name(),
          new BigInteger(127, random), Date.from(now), Date.from(now.plus(VALIDITY)), subject,
          keys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
          client ? KeyPurposeId.id_kp_clientAuth : KeyPurposeId.id_kp_serverAuth));
      if (!hosts.isEmpty()) {
        List<GeneralName> names = new ArrayList<>();
        for (String host : hosts) {
          names.add(IPV4.matcher(host).matches() ? new GeneralName(GeneralName.iPAddress, host)
              : DNS.matcher(host).matches() ? new GeneralName(GeneralName.dNSName, host)
              : new GeneralName(GeneralName.uniformResourceIdentifier, host));
        }
        builder.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      String certificate = pem(builder.build(new JcaContentSignerBuilder("SHA256withRSA")
          .build(issuer.keys().getPrivate())));
      StringWriter key = new StringWriter();
      try (JcaPEMWriter writer = new JcaPEMWriter(key)) {
        writer.writeObject(keys.getPrivate()); // RSA keys are written as PKCS#1
      }
      return new String[] {certificate, key.toString()};
    } catch (GeneralSecurityException | IOException
        | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("certificate for " + hosts + ": " + e, e);
    }
  }

  private KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048, random);
    return generator.generateKeyPair();
  }

  private static String pem(X509CertificateHolder certificate) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(certificate);
    }
    return out.toString();
  }
}
