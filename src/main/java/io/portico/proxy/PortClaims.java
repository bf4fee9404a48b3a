package io.portico.proxy;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ServerID;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Which kind of server holds each listening socket of the process, so that a port a new table
 * moves from one kind to another (HTTP to TCP, plain HTTP to HTTPS...) is bound anew only once
 * the old kind has let go of it.
 *
 * <p>Why: Vert.x shares one listening socket among every server of the process that listens on
 * the same host and port, whatever its kind; that is how the proxy verticles of one kind share a
 * port over the event loops. A TCP server listening while the HTTP servers of the previous table
 * still hold the port joins their socket (and gets their connections with their options); one
 * listening while that socket is being closed joins a dead socket, reports success and never
 * serves the port. So a server claims its socket first: granted when no server of another kind
 * holds it and Vert.x no longer has a socket open there.
 *
 * <p>One instance per Vert.x instance, shared by all proxy verticles; thread-safe.
 */
public final class PortClaims {

  /** How often a claim that cannot be granted yet is tried again. */
  private static final long RETRY_MILLIS = 50;
  /** How long a claim waits for another kind to let go before it fails. */
  private static final long GIVE_UP_MILLIS = 60_000;

  private final Map<ServerID, Holder> holders = new HashMap<>();
  /** Where the handoff sockets live (see {@link #handoffAddress}), made on first use. */
  private Path handoffDirectory;

  /** The kind of server holding one socket and how many of its servers share it. */
  private record Holder(String kind, int servers) {
  }

  /**
   * Claims the socket {@code host:port} for one server of {@code kind}, waiting (on timers of the
   * caller's context) while another kind holds it or its socket is still closing.
   *
   * @param host   the address, or the path of a Unix domain socket (with {@code port} -1)
   * @param port   the port; 0 (ephemeral, never shared) is granted at once
   * @param kind   servers of equal kind share a socket: they are bound with the same options
   * @param wanted asked before every try; when false the claim is abandoned
   * @return true once claimed (pair it with {@link #release}), false if abandoned; failed if
   *     another kind still holds the socket after a minute
   */
  public Future<Boolean> claim(Vertx vertx, String host, int port, String kind,
      BooleanSupplier wanted) {
    if (port == 0) {
      return Future.succeededFuture(true); // An ephemeral port is never shared.
    }
    Promise<Boolean> claimed = Promise.promise();
    tryClaim(vertx, new ServerID(port, host), kind, wanted, System.nanoTime(), claimed);
    return claimed.future();
  }

  /**
   * Returns the Unix domain socket on which the HTTP proxy serves the HTTPS listeners of the
   * port {@code host:port} when TLS listeners share it: the stream proxy owns the port, reads
   * each connection's SNI name and hands those of HTTPS listeners over, PROXY protocol header
   * first (the client's address), then the bytes as the client sent them. A domain socket in a
   * directory only this user can enter, rather than a loopback port: no other local process can
   * connect and claim any client address it likes. Claim it with {@code port} -1 and the path
   * as host (Vert.x shares a domain socket by its path).
   */
  public synchronized SocketAddress handoffAddress(String host, int port) {
    if (handoffDirectory == null) {
      try {
        handoffDirectory = privateDirectory();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the directory for handoff sockets", e);
      }
      handoffDirectory.toFile().deleteOnExit();
    }
    String name = (host.isEmpty() ? "any" : host.replace(':', '_')) + "-" + port + ".sock";
    return SocketAddress.domainSocketAddress(handoffDirectory.resolve(name).toString());
  }

  /** A new temporary directory only this user may enter. */
  private static Path privateDirectory() throws IOException {
    try {
      return Files.createTempDirectory("portico-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (UnsupportedOperationException notPosix) {
      // Not a POSIX file system (Windows): the temporary directory is the user's own.
      return Files.createTempDirectory("portico-");
    }
  }

  /** Gives one server's share of the socket {@code host:port} back. */
  public synchronized void release(String host, int port, String kind) {
    ServerID id = new ServerID(port, host);
    Holder holder = holders.get(id);
    if (holder == null || !holder.kind().equals(kind)) {
      return;
    }
    if (holder.servers() <= 1) {
      holders.remove(id);
    } else {
      holders.put(id, new Holder(kind, holder.servers() - 1));
    }
  }

  private void tryClaim(Vertx vertx, ServerID id, String kind, BooleanSupplier wanted,
      long startNanos, Promise<Boolean> claimed) {
    if (!wanted.getAsBoolean()) {
      claimed.complete(false);
      return;
    }
    String holder = grant(vertx, id, kind);
    if (holder == null) {
      claimed.complete(true);
    } else if (System.nanoTime() - startNanos > GIVE_UP_MILLIS * 1_000_000) {
      claimed.fail("port " + id + " is still held by a " + holder + " server after "
          + GIVE_UP_MILLIS / 1000 + " s");
    } else {
      vertx.setTimer(RETRY_MILLIS, t -> tryClaim(vertx, id, kind, wanted, startNanos, claimed));
    }
  }

  /** Grants the claim and returns null, or returns what holds the socket. */
  private synchronized String grant(Vertx vertx, ServerID id, String kind) {
    Holder holder = holders.get(id);
    if (holder != null && !holder.kind().equals(kind)) {
      return holder.kind();
    }
    if (holder == null && socketStillOpen(vertx, id)) {
      return "closing";
    }
    holders.put(id, new Holder(kind, holder == null ? 1 : holder.servers() + 1));
    return null;
  }

  /**
   * Whether Vert.x still has a listening socket at {@code id}: it forgets one only once its
   * channel has closed, after the last server sharing it was closed.
   */
  private static boolean socketStillOpen(Vertx vertx, ServerID id) {
    Map<ServerID, ?> sockets = ((VertxInternal) Objects.requireNonNull(vertx)).sharedTcpServers();
    synchronized (sockets) {
      return sockets.containsKey(id);
    }
  }
}
