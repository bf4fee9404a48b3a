package io.portico.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on 127.0.0.1 that never answers: it records the bytes each connection sends and
 * whether the connection was closed (or reset) by the peer. For what must not reach a backend,
 * and for upstream exchanges that must be reset at once rather than held until a timeout.
 */
public final class RecordingBackend implements AutoCloseable {

  private final ServerSocket server;
  private final List<Connection> connections = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();

  /** One accepted connection: what it received, and whether it ended. */
  public static final class Connection {
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private volatile boolean closed;

    public synchronized String received() {
      return received.toString(StandardCharsets.ISO_8859_1);
    }

    public boolean closed() {
      return closed;
    }
  }

  public RecordingBackend() {
    try {
      server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Thread acceptor = new Thread(this::accept, "recording-backend");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  public List<Connection> connections() {
    return connections;
  }

  /** Everything every connection received so far. */
  public String received() {
    StringBuilder all = new StringBuilder();
    connections.forEach(connection -> all.append(connection.received()));
    return all.toString();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Connection connection = new Connection();
        connections.add(connection);
        accepted.incrementAndGet();
        Thread reader = new Thread(() -> read(socket, connection), "recording-backend-conn");
        reader.setDaemon(true);
        reader.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void read(Socket socket, Connection connection) {
    try (socket; InputStream in = socket.getInputStream()) {
      byte[] buffer = new byte[4096];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        synchronized (connection) {
          connection.received.write(buffer, 0, n);
        }
      }
    } catch (IOException e) {
      // Reset by the peer: closed as well.
    } finally {
      connection.closed = true;
    }
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }
}
