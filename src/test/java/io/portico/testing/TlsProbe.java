package io.portico.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/** One HTTPS request over a fresh real TLS connection, with a chosen SNI and client certificate. */
public final class TlsProbe {

  /**
   * What came back: the status line, the rest of the response (header lines, a blank line, the
   * body), the server's certificate.
   */
  public record Exchange(String statusLine, String body, X509Certificate peer) {

    /** Returns every value of response header {@code name} (case-insensitive), in order. */
    public List<String> headers(String name) {
      List<String> values = new java.util.ArrayList<>();
      String prefix = name.toLowerCase(java.util.Locale.ROOT) + ":";
      for (String line : body.split("\n")) {
        if (line.isEmpty()) {
          break;
        }
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith(prefix)) {
          values.add(line.substring(prefix.length()).trim());
        }
      }
      return values;
    }
  }

  private TlsProbe() {
  }

  /**
   * Sends {@code GET path} with {@code host}, offering {@code clientCertificate} (or none), and
   * trusting only {@code trusted}.
   *
   * @throws Exception when the handshake or the exchange fails
   */
  public static Exchange get(int port, String serverName, String host, String path,
      TestCertificates.Pem clientCertificate, X509Certificate... trusted) throws Exception {
    SSLContext context = context(clientCertificate, trusted);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(serverName)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
          StandardCharsets.UTF_8));
      String status = in.readLine();
      if (status == null) {
        throw new java.io.EOFException("connection closed without a response");
      }
      StringBuilder rest = new StringBuilder();
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        rest.append(line).append('\n');
      }
      return new Exchange(status, rest.toString(),
          (X509Certificate) socket.getSession().getPeerCertificates()[0]);
    }
  }

  /**
   * A TLS client context trusting only {@code trusted} and offering {@code clientCertificate}
   * (or none).
   */
  public static SSLContext context(TestCertificates.Pem clientCertificate,
      X509Certificate... trusted) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    for (int i = 0; i < trusted.length; i++) {
      trust.setCertificateEntry("c" + i, trusted[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (clientCertificate != null) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("client", clientCertificate.privateKey(), new char[0],
          new Certificate[] {clientCertificate.x509()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, new char[0]);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }
}
