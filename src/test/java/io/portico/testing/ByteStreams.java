package io.portico.testing;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A tiny protocol for tests of byte tunnels (TCP routes, upgraded connections): the client
 * sends a line {@code "<seed> <size>"}, the backend answers with {@link TestBytes#of} and closes.
 */
public final class ByteStreams {

  private ByteStreams() {
  }

  /**
   * Asks for {@code size} bytes over {@code socket} and reads up to {@code most} of them,
   * {@code slowly} (a pause every 16 KiB read, so that a large answer outgrows the socket
   * buffers) or at once.
   */
  public static byte[] ask(Socket socket, int seed, int size, int most, boolean slowly)
      throws IOException, InterruptedException {
    OutputStream out = socket.getOutputStream();
    out.write((seed + " " + size + "\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
    InputStream in = socket.getInputStream();
    if (!slowly) {
      return in.readNBytes(Math.min(size, most));
    }
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    byte[] piece = new byte[16_384];
    for (int n; read.size() < Math.min(size, most) && (n = in.read(piece)) > 0; ) {
      read.write(piece, 0, n);
      Thread.sleep(1);
    }
    return read.toByteArray();
  }

  /**
   * Answers the request line in {@code received}, if it is complete, with the bytes asked for
   * and closes {@code socket}.
   *
   * @return whether the line was complete (and answered)
   */
  public static boolean answer(NetSocket socket, Buffer received) {
    String text = received.toString(StandardCharsets.US_ASCII);
    int end = text.indexOf('\n');
    if (end < 0) {
      return false;
    }
    String[] parts = text.substring(0, end).split(" ");
    socket.end(Buffer.buffer(TestBytes.of(Integer.parseInt(parts[0]),
        Integer.parseInt(parts[1]))));
    return true;
  }
}
