package io.portico.proxy.tcp;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * Reads the SNI name from the start of a TLS connection without terminating it: collects the
 * bytes a client sends until its ClientHello is complete, however it is split into TCP segments
 * (one byte at a time included) or TLS records, and keeps them so they can be relayed unchanged.
 *
 * <p>Bounded: {@code maxBytes} received before the ClientHello is complete, or a record or
 * handshake message announcing more, ends the read; bytes that follow a complete ClientHello in
 * the same read are kept for the backend. Work is linear in the bytes received: every record is
 * looked at once. Confined to one connection's event loop.
 */
final class ClientHelloReader {

  /** What the bytes so far say. */
  enum State {
    /** The ClientHello is not complete yet: feed more bytes. */
    NEED_MORE,
    /** The ClientHello is complete; {@link #serverName()} holds its SNI name. */
    DONE,
    /** The first bytes are not a TLS handshake record: not a TLS client. */
    NOT_TLS,
    /** The ClientHello would need more than the limit. */
    TOO_LARGE,
    /** The bytes are TLS records but not a well-formed ClientHello. */
    MALFORMED
  }

  private static final int CONTENT_TYPE_HANDSHAKE = 22;
  private static final int HANDSHAKE_CLIENT_HELLO = 1;
  private static final int EXTENSION_SERVER_NAME = 0;
  private static final int NAME_TYPE_HOST_NAME = 0;
  private static final int RECORD_HEADER = 5;
  /** RFC 8446 5.1: a plaintext record carries at most 2^14 bytes. */
  private static final int MAX_RECORD_PAYLOAD = 1 << 14;

  private final int maxBytes;
  private final Buffer received = Buffer.buffer(512);
  /** The handshake bytes of the complete records seen so far. */
  private final Buffer handshake = Buffer.buffer(512);
  /** Where the next record starts in {@code received}. */
  private int nextRecord;
  private State state = State.NEED_MORE;
  private String serverName = "";

  /** @param maxBytes how many bytes may be buffered before the ClientHello must be complete */
  ClientHelloReader(int maxBytes) {
    if (maxBytes < RECORD_HEADER + 4) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 9)");
    }
    this.maxBytes = maxBytes;
  }

  /** Adds bytes received from the client and returns what is known now. */
  State feed(Buffer bytes) {
    if (state != State.NEED_MORE) {
      return state;
    }
    // Everything received is kept (it is relayed after the ClientHello), so the buffer holds at
    // most the limit plus the last read.
    received.appendBuffer(bytes);
    state = advance();
    if (state == State.NEED_MORE && received.length() >= maxBytes) {
      state = State.TOO_LARGE;
    }
    return state;
  }

  /** Returns the SNI host name (lower case, no trailing dot), or "" when the client sent none. */
  String serverName() {
    return serverName;
  }

  /** Returns every byte received so far, to be relayed first. */
  Buffer received() {
    return received;
  }

  private State advance() {
    if (received.length() > 0 && received.getUnsignedByte(0) != CONTENT_TYPE_HANDSHAKE) {
      return State.NOT_TLS;
    }
    while (received.length() - nextRecord >= RECORD_HEADER) {
      int type = received.getUnsignedByte(nextRecord);
      int major = received.getUnsignedByte(nextRecord + 1);
      int length = received.getUnsignedShort(nextRecord + 3);
      if (type != CONTENT_TYPE_HANDSHAKE || major != 3) {
        return nextRecord == 0 ? State.NOT_TLS : State.MALFORMED;
      }
      if (length == 0 || length > MAX_RECORD_PAYLOAD) {
        return State.MALFORMED;
      }
      if (nextRecord + RECORD_HEADER + length > maxBytes) {
        return State.TOO_LARGE;
      }
      if (received.length() - nextRecord < RECORD_HEADER + length) {
        return State.NEED_MORE;
      }
      handshake.appendBuffer(received, nextRecord + RECORD_HEADER, length);
      nextRecord += RECORD_HEADER + length;
      if (handshake.length() >= 4) {
        if (handshake.getUnsignedByte(0) != HANDSHAKE_CLIENT_HELLO) {
          return State.MALFORMED;
        }
        int messageLength = handshake.getUnsignedMedium(1);
        if (messageLength + 4 > maxBytes) {
          return State.TOO_LARGE;
        }
        if (handshake.length() >= messageLength + 4) {
          return parse(messageLength) ? State.DONE : State.MALFORMED;
        }
      }
    }
    return State.NEED_MORE;
  }

  /** Parses the complete ClientHello body (RFC 8446 4.1.2) for the server_name extension. */
  private boolean parse(int messageLength) {
    int end = 4 + messageLength;
    int at = 4 + 2 + 32; // legacy_version, random
    if (at + 1 > end) {
      return false;
    }
    at += 1 + handshake.getUnsignedByte(at); // legacy_session_id
    if (at + 2 > end) {
      return false;
    }
    at += 2 + handshake.getUnsignedShort(at); // cipher_suites
    if (at + 1 > end) {
      return false;
    }
    at += 1 + handshake.getUnsignedByte(at); // legacy_compression_methods
    if (at == end) {
      return true; // no extensions at all (SSL 3.0 style): no SNI
    }
    if (at + 2 > end) {
      return false;
    }
    int extensionsEnd = at + 2 + handshake.getUnsignedShort(at);
    if (extensionsEnd > end) {
      return false;
    }
    at += 2;
    while (at + 4 <= extensionsEnd) {
      int type = handshake.getUnsignedShort(at);
      int length = handshake.getUnsignedShort(at + 2);
      at += 4;
      if (at + length > extensionsEnd) {
        return false;
      }
      if (type == EXTENSION_SERVER_NAME) {
        return parseServerName(at, at + length);
      }
      at += length;
    }
    return at == extensionsEnd;
  }

  /** RFC 6066 3: a list of (name_type, name); the host_name entry is the one used. */
  private boolean parseServerName(int at, int end) {
    if (at + 2 > end || at + 2 + handshake.getUnsignedShort(at) != end) {
      return false;
    }
    at += 2;
    while (at + 3 <= end) {
      int nameType = handshake.getUnsignedByte(at);
      int length = handshake.getUnsignedShort(at + 1);
      at += 3;
      if (at + length > end) {
        return false;
      }
      if (nameType == NAME_TYPE_HOST_NAME) {
        String name = handshake.getString(at, at + length, StandardCharsets.US_ASCII.name());
        if (!validHostName(name)) {
          return false;
        }
        if (name.endsWith(".")) {
          name = name.substring(0, name.length() - 1);
        }
        serverName = name.toLowerCase(java.util.Locale.ROOT);
        return true;
      }
      at += length;
    }
    return at == end;
  }

  /** Letters, digits, '-', '.', '_' only: anything else cannot match a route and is refused. */
  private static boolean validHostName(String name) {
    if (name.isEmpty() || name.length() > 255) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || c == '-' || c == '.' || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}
