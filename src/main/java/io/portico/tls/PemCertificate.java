package io.portico.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * A certificate chain and its private key read from the PEM of a {@code kubernetes.io/tls}
 * Secret ({@code tls.crt}, {@code tls.key}). Keys may be PKCS#8 ({@code PRIVATE KEY}, RSA or
 * EC) or PKCS#1 ({@code RSA PRIVATE KEY}, what {@code openssl genrsa} and the Gateway API
 * conformance suite write).
 *
 * @param chain the leaf certificate first, then its intermediates
 * @param key the leaf's private key
 */
public record PemCertificate(List<X509Certificate> chain, PrivateKey key) {

  public PemCertificate {
    chain = List.copyOf(chain);
    Objects.requireNonNull(key, "key");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("chain: empty (expected: at least the leaf certificate)");
    }
  }

  /**
   * Parses a certificate chain and key.
   *
   * @throws IllegalArgumentException with a message a user can act on when either is invalid
   *     or they do not belong together
   */
  public static PemCertificate parse(String certificatePem, String keyPem) {
    List<X509Certificate> chain = certificates(certificatePem);
    PrivateKey key = privateKey(keyPem);
    if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
      throw new IllegalArgumentException("tls.key is a " + key.getAlgorithm()
          + " key but the certificate's key is " + chain.get(0).getPublicKey().getAlgorithm());
    }
    return new PemCertificate(chain, key);
  }

  /** Returns the DNS names the leaf certificate is valid for (SAN DNS entries, else its CN). */
  public List<String> dnsNames() {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> sans = chain.get(0).getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(2).equals(san.get(0))) {
            names.add(String.valueOf(san.get(1)).toLowerCase(java.util.Locale.ROOT));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // No usable SANs: fall back to the CN below.
    }
    return names;
  }

  /** Parses every CERTIFICATE block of {@code pem}; throws IllegalArgumentException when none. */
  public static List<X509Certificate> certificates(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("tls.crt is missing or empty");
    }
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> chain = new ArrayList<>();
      for (byte[] der : blocks(pem, "CERTIFICATE")) {
        chain.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
      }
      if (chain.isEmpty()) {
        throw new IllegalArgumentException("tls.crt holds no PEM CERTIFICATE block");
      }
      return chain;
    } catch (CertificateException e) {
      throw new IllegalArgumentException("tls.crt is not a valid X.509 certificate: " + e.getMessage());
    }
  }

  static PrivateKey privateKey(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("tls.key is missing or empty");
    }
    List<byte[]> pkcs8 = blocks(pem, "PRIVATE KEY");
    List<byte[]> pkcs1 = blocks(pem, "RSA PRIVATE KEY");
    try {
      if (!pkcs8.isEmpty()) {
        return pkcs8Key(pkcs8.get(0));
      }
      if (!pkcs1.isEmpty()) {
        return KeyFactory.getInstance("RSA").generatePrivate(
            new PKCS8EncodedKeySpec(wrapPkcs1(pkcs1.get(0))));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("tls.key is not a valid private key: " + e.getMessage());
    }
    if (pem.contains("-----BEGIN EC PRIVATE KEY-----")) {
      throw new IllegalArgumentException("tls.key is a SEC1 EC key, which is not supported; "
          + "convert it with `openssl pkcs8 -topk8 -nocrypt`");
    }
    throw new IllegalArgumentException("tls.key holds no PEM PRIVATE KEY or RSA PRIVATE KEY block");
  }

  private static PrivateKey pkcs8Key(byte[] der) throws GeneralSecurityException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    GeneralSecurityException last = null;
    for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw last;
  }

  /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo, which is what Java reads. */
  private static byte[] wrapPkcs1(byte[] pkcs1) {
    byte[] rsaAlgorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(rsaAlgorithm);
    body.write(0x04);
    writeLength(body, pkcs1.length);
    body.writeBytes(pkcs1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    writeLength(out, body.size());
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static void writeLength(ByteArrayOutputStream out, int length) {
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length & 0xff);
    } else {
      out.write(0x83);
      out.write(length >> 16);
      out.write(length >> 8 & 0xff);
      out.write(length & 0xff);
    }
  }

  /** Returns the decoded bodies of every {@code -----BEGIN type-----} block. */
  private static List<byte[]> blocks(String pem, String type) {
    List<byte[]> blocks = new ArrayList<>();
    String begin = "-----BEGIN " + type + "-----";
    String end = "-----END " + type + "-----";
    int from = 0;
    while (true) {
      int start = pem.indexOf(begin, from);
      if (start < 0) {
        return blocks;
      }
      int stop = pem.indexOf(end, start);
      if (stop < 0) {
        throw new IllegalArgumentException("PEM block " + type + " has no END line");
      }
      String base64 = pem.substring(start + begin.length(), stop).replaceAll("\\s", "");
      try {
        blocks.add(Base64.getDecoder().decode(base64.getBytes(StandardCharsets.US_ASCII)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM block " + type + " is not valid base64");
      }
      from = stop + end.length();
    }
  }
}
