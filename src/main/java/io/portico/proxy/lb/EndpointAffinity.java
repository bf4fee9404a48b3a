package io.portico.proxy.lb;

import io.portico.ir.Endpoint;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The stateless halves of session affinity, identical in every Portico process (no table held
 * by one replica, no per-process seed):
 *
 * <ul>
 *   <li>a cookie value names its endpoint by a 64-bit hash of {@code host:port}, so any replica,
 *       and a restarted one, finds the endpoint again in its current endpoint list;
 *   <li>consistent hashing (source IP, header) is rendezvous hashing: every endpoint gets the
 *       score {@code hash(key | host:port)} and the highest wins. It needs no ordering or ring
 *       state, gives every replica the same answer for the same endpoint set, and when an
 *       endpoint leaves only the keys it held move.
 * </ul>
 */
public final class EndpointAffinity {

  private EndpointAffinity() {
  }

  /** Returns the cookie value naming {@code endpoint}: 16 hex digits. */
  public static String cookieValue(Endpoint endpoint) {
    String hex = Long.toHexString(endpointHash(endpoint));
    return hex.length() == 16 ? hex : "0".repeat(16 - hex.length()) + hex;
  }

  /** Returns whether {@code value} (16 hex digits) names {@code endpoint}. */
  public static boolean names(String value, Endpoint endpoint) {
    return value != null && value.length() == 16 && value.equals(cookieValue(endpoint));
  }

  /** Returns the endpoint the cookie value names, or null when it is not (or no longer) there. */
  public static Endpoint byCookie(List<Endpoint> endpoints, String value) {
    if (value == null || value.length() != 16) {
      return null;
    }
    long wanted;
    try {
      wanted = Long.parseUnsignedLong(value, 16);
    } catch (NumberFormatException e) {
      return null;
    }
    for (Endpoint endpoint : endpoints) {
      if (endpointHash(endpoint) == wanted) {
        return endpoint;
      }
    }
    return null;
  }

  /**
   * Returns the endpoint {@code key} hashes to, or null when there is none. The score of each
   * endpoint is {@code hash(key | host:port)}; the key's part of the hash is computed once, so a
   * long key (a header value chosen by the client) costs its length once, not once per endpoint.
   */
  public static Endpoint byKey(List<Endpoint> endpoints, String key) {
    long keyState = step(fnv(FNV_OFFSET, key), '|');
    Endpoint best = null;
    long bestScore = 0;
    for (Endpoint endpoint : endpoints) {
      long score = finish(fnvEndpoint(keyState, endpoint));
      if (best == null || Long.compareUnsigned(score, bestScore) > 0
          || score == bestScore && endpoint.toString().compareTo(best.toString()) < 0) {
        best = endpoint;
        bestScore = score;
      }
    }
    return best;
  }

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  /** FNV-1a over the UTF-8 bytes, then SplitMix64's finalizer to spread the bits. */
  static long hash(String text) {
    return finish(fnv(FNV_OFFSET, text));
  }

  /** {@code hash(endpoint.toString())}, without building the string (per request, per endpoint). */
  static long endpointHash(Endpoint endpoint) {
    return finish(fnvEndpoint(FNV_OFFSET, endpoint));
  }

  /** Continues FNV-1a over the bytes of {@link Endpoint#toString()}: [v6]:port or host:port. */
  private static long fnvEndpoint(long h, Endpoint endpoint) {
    boolean bracketed = endpoint.host().indexOf(':') >= 0;
    if (bracketed) {
      h = step(h, '[');
    }
    h = fnv(h, endpoint.host());
    if (bracketed) {
      h = step(h, ']');
    }
    h = step(h, ':');
    int port = endpoint.port();
    int divisor = 1;
    while (divisor <= port / 10) {
      divisor *= 10;
    }
    for (; divisor > 0; divisor /= 10) {
      h = step(h, '0' + port / divisor % 10);
    }
    return h;
  }

  /** Continues FNV-1a over the UTF-8 bytes of {@code text}; ASCII without allocating. */
  private static long fnv(long h, String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c >= 0x80) {
        for (byte b : text.substring(i).getBytes(StandardCharsets.UTF_8)) {
          h = step(h, b & 0xff);
        }
        return h;
      }
      h = step(h, c);
    }
    return h;
  }

  private static long step(long h, int octet) {
    return (h ^ octet) * FNV_PRIME;
  }

  private static long finish(long h) {
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }
}
