package io.portico.conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Sends one HTTP/1.1 request on a new connection and reads the whole response. Raw sockets,
 * because conformance requests need what general clients refuse or hide: a Host header that
 * differs from the address (and from the TLS server name), the path and query sent byte for
 * byte, no connection reuse and redirects returned as they are.
 */
final class RawHttp {

  /** A request: the target is sent as written; headers in order. */
  record Request(String method, String target, String host, List<Map.Entry<String, String>> headers,
      String body) {}

  /** A complete response; header names keep their case, lookups ignore it. */
  record Response(int status, List<Map.Entry<String, String>> headers, String body) {

    /** Returns every value of a header, in order. */
    List<String> values(String name) {
      List<String> values = new ArrayList<>();
      for (Map.Entry<String, String> header : headers) {
        if (header.getKey().equalsIgnoreCase(name)) {
          values.add(header.getValue());
        }
      }
      return values;
    }

    /** Returns the values joined with {@code ,}, or null when the header is absent. */
    String joined(String name) {
      List<String> values = values(name);
      return values.isEmpty() ? null : String.join(",", values);
    }
  }

  private RawHttp() {
  }

  /**
   * TLS settings of a request.
   *
   * @param context trusts what the step says to trust
   * @param sni the server name sent, or null for none
   */
  record Tls(SSLContext context, String sni) {}

  /** Sends a request, over TLS when {@code tls} is not null. */
  static Response exchange(InetSocketAddress address, Request request, Duration timeout, Tls tls)
      throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Socket plain = new Socket()) {
      plain.connect(address, (int) timeout.toMillis());
      plain.setSoTimeout(remainingMillis(deadline));
      Socket socket = tls == null ? plain : handshake(plain, address, tls);
      byte[] body = request.body() == null ? new byte[0]
          : request.body().getBytes(StandardCharsets.UTF_8);
      StringBuilder head = new StringBuilder();
      head.append(request.method()).append(' ').append(request.target()).append(" HTTP/1.1\r\n");
      head.append("Host: ").append(request.host()).append("\r\n");
      for (Map.Entry<String, String> header : request.headers()) {
        head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
      }
      if (body.length > 0) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("Connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.UTF_8));
      out.write(body);
      out.flush();
      return read(new DeadlineInput(socket, deadline), request.method());
    }
  }

  private static Socket handshake(Socket plain, InetSocketAddress address, Tls tls)
      throws IOException {
    SSLSocket socket = (SSLSocket) tls.context().getSocketFactory().createSocket(plain,
        address.getHostString(), address.getPort(), true);
    SSLParameters parameters = socket.getSSLParameters();
    if (tls.sni() != null) {
      try {
        parameters.setServerNames(List.of(new SNIHostName(tls.sni())));
      } catch (IllegalArgumentException e) {
        parameters.setServerNames(List.of()); // not a host name (e.g. an IP): send no SNI
      }
    }
    // No host name check: the JDK refuses wildcards for public suffixes (*.org) that Go's
    // client accepts; the chain is still verified against what the step trusts.
    parameters.setEndpointIdentificationAlgorithm(null);
    socket.setSSLParameters(parameters);
    socket.startHandshake();
    return socket;
  }

  private static Response read(DeadlineInput in, String method) throws IOException {
    while (true) {
      String statusLine = in.line();
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
        throw new IOException("not an HTTP status line: " + statusLine);
      }
      int status = Integer.parseInt(parts[1]);
      List<Map.Entry<String, String>> headers = new ArrayList<>();
      for (String line = in.line(); !line.isEmpty(); line = in.line()) {
        int colon = line.indexOf(':');
        if (colon > 0) {
          headers.add(Map.entry(line.substring(0, colon).trim(), line.substring(colon + 1).trim()));
        }
      }
      if (status >= 100 && status < 200) {
        continue; // interim response (100 Continue, 103 Early Hints): the final one follows
      }
      Response head = new Response(status, headers, "");
      byte[] body;
      if (method.equals("HEAD") || status == 204 || status == 304) {
        body = new byte[0];
      } else if ("chunked".equalsIgnoreCase(head.joined("Transfer-Encoding"))) {
        body = in.chunked();
      } else if (head.joined("Content-Length") != null) {
        body = in.exactly(Integer.parseInt(head.values("Content-Length").get(0).trim()));
      } else {
        body = in.toEnd();
      }
      return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
    }
  }

  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long remaining = (deadline - System.nanoTime()) / 1_000_000;
    if (remaining <= 0) {
      throw new SocketTimeoutException("request timed out");
    }
    return (int) remaining;
  }

  /** Reads from the socket, failing once the request's deadline has passed. */
  private static final class DeadlineInput {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;

    DeadlineInput(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.in = new java.io.BufferedInputStream(socket.getInputStream());
      this.deadline = deadline;
    }

    private int next() throws IOException {
      socket.setSoTimeout(remainingMillis(deadline));
      return in.read();
    }

    String line() throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      for (int b = next(); b != '\n'; b = next()) {
        if (b < 0) {
          throw new IOException("connection closed before the response was complete");
        }
        line.write(b);
      }
      String text = line.toString(StandardCharsets.ISO_8859_1);
      return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
    }

    byte[] exactly(int length) throws IOException {
      byte[] data = new byte[length];
      for (int i = 0; i < length; i++) {
        int b = next();
        if (b < 0) {
          throw new IOException("connection closed after " + i + " of " + length + " body bytes");
        }
        data[i] = (byte) b;
      }
      return data;
    }

    byte[] chunked() throws IOException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      while (true) {
        String size = line();
        int semicolon = size.indexOf(';');
        int length = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim()
            .toLowerCase(Locale.ROOT), 16);
        if (length == 0) {
          while (!line().isEmpty()) {
            // trailers are not needed
          }
          return body.toByteArray();
        }
        body.write(exactly(length));
        line();
      }
    }

    byte[] toEnd() throws IOException {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      for (int b = next(); b >= 0; b = next()) {
        body.write(b);
      }
      return body.toByteArray();
    }
  }
}
