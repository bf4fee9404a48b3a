package io.portico.testing;

import io.vertx.core.json.JsonObject;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A blocking client of the TCP echo dialogue ({@link io.portico.echo.TcpEchoServer}), in
 * cleartext or over TLS with a chosen SNI name, for end-to-end tests of the stream proxy.
 */
public final class StreamProbe {

  /**
   * What one dialogue saw.
   *
   * @param test the JSON the backend answered to {@code TEST}
   * @param peer the certificate the TLS peer presented, or null in cleartext
   */
  public record Dialogue(JsonObject test, X509Certificate peer) {
    public String pod() {
      return test.getString("pod");
    }
  }

  private StreamProbe() {
  }

  /** Connects in cleartext, reads the welcome line, sends TEST and returns the answer. */
  public static Dialogue tcp(int port) throws IOException {
    return tcp(port, 10_000);
  }

  /**
   * As {@link #tcp(int)}, giving up a read after {@code timeoutMillis}: for polling a port that
   * another (non-TCP-echo) server may still hold for a moment, which sends no welcome line.
   */
  public static Dialogue tcp(int port, int timeoutMillis) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(timeoutMillis);
      return new Dialogue(test(socket), null);
    }
  }

  /**
   * Connects with TLS sending {@code serverName} as SNI, trusting only {@code trusted}, and runs
   * the dialogue; fails with an IOException when the handshake does not complete.
   */
  public static Dialogue tls(int port, String serverName, X509Certificate trusted)
      throws IOException {
    try (SSLSocket socket = (SSLSocket) context(trusted).getSocketFactory()
        .createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setServerNames(List.of(new SNIHostName(serverName)));
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
      return new Dialogue(test(socket), peer);
    }
  }

  /** Returns a client TLS context trusting only {@code trusted}. */
  public static SSLContext context(X509Certificate trusted) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("trusted", trusted);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonObject test(Socket socket) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
        StandardCharsets.UTF_8));
    String welcome = in.readLine();
    if (welcome == null) {
      throw new java.io.EOFException("closed before the welcome line");
    }
    OutputStream out = socket.getOutputStream();
    out.write("TEST\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    String line = in.readLine();
    if (line == null) {
      throw new java.io.EOFException("closed before the TEST answer");
    }
    return new JsonObject(line);
  }
}
