package io.portico.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One WebSocket upgrade handshake over a fresh plain socket, written by hand so a test sees the
 * exact answer head (status and every Set-Cookie), whatever the status.
 */
public final class UpgradeProbe {

  /** The answer's head: status code (0 when the connection closed first) and header lines. */
  public record Head(int status, List<String> lines) {

    /** Returns every value of header {@code name} (case-insensitive), in order. */
    public List<String> headers(String name) {
      List<String> values = new ArrayList<>();
      String prefix = name.toLowerCase(Locale.ROOT) + ":";
      for (String line : lines) {
        if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
          values.add(line.substring(prefix.length()).trim());
        }
      }
      return values;
    }
  }

  private UpgradeProbe() {
  }

  /** Sends {@code GET path} asking to upgrade to websocket, with extra {@code headers} lines. */
  public static Head upgrade(int port, String host, String path, String... headers) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      StringBuilder request = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: ")
          .append(host).append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
          .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
      for (String header : headers) {
        request.append(header).append("\r\n");
      }
      socket.getOutputStream().write(request.append("\r\n").toString()
          .getBytes(StandardCharsets.ISO_8859_1));
      StringBuilder head = new StringBuilder();
      InputStream in = socket.getInputStream();
      while (head.indexOf("\r\n\r\n") < 0) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.append((char) b);
      }
      List<String> lines = new ArrayList<>(List.of(head.toString().split("\r\n")));
      String statusLine = lines.isEmpty() ? "" : lines.remove(0);
      String[] parts = statusLine.split(" ", 3);
      int status = parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1]) : 0;
      return new Head(status, lines);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
