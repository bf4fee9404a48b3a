package io.portico.proxy.tls;

import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;

import java.security.SecureRandom;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Holds the TLS session ticket keys of this process, shared by every OpenSSL server context, so
 * a client resumes whichever event loop or listener port its next connection lands on.
 *
 * <p>The keys are random and never leave the process: another replica (or a restart) cannot
 * read the tickets and the client simply does a full handshake. {@link #rotate} puts a new key
 * first (new tickets) and keeps the previous one for reading tickets issued before, so the
 * forward secrecy of a ticket ends two rotations after it was issued.
 */
public final class SessionTicketKeys {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<OpenSslServerSessionContext> CONTEXTS =
      Collections.newSetFromMap(new WeakHashMap<>());
  private static OpenSslSessionTicketKey[] keys = {newKey()};

  private SessionTicketKeys() {
  }

  /** Turns tickets on for {@code context} with the current keys, and keeps it up to date. */
  static synchronized void install(OpenSslServerSessionContext context) {
    CONTEXTS.add(context);
    context.setTicketKeys(keys);
  }

  /** Issues new tickets under a new key; tickets of the previous key are still accepted. */
  public static synchronized void rotate() {
    keys = new OpenSslSessionTicketKey[] {newKey(), keys[0]};
    for (OpenSslServerSessionContext context : CONTEXTS) {
      context.setTicketKeys(keys);
    }
  }

  private static OpenSslSessionTicketKey newKey() {
    byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
    byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
    byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
    RANDOM.nextBytes(name);
    RANDOM.nextBytes(hmac);
    RANDOM.nextBytes(aes);
    return new OpenSslSessionTicketKey(name, hmac, aes);
  }
}
