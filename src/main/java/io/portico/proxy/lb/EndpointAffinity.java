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
    String hex = Long.toHexString(hash(endpoint.toString()));
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
      if (hash(endpoint.toString()) == wanted) {
        return endpoint;
      }
    }
    return null;
  }

  /** Returns the endpoint {@code key} hashes to, or null when there is none. */
  public static Endpoint byKey(List<Endpoint> endpoints, String key) {
    Endpoint best = null;
    long bestScore = 0;
    for (Endpoint endpoint : endpoints) {
      long score = hash(key + "|" + endpoint);
      if (best == null || Long.compareUnsigned(score, bestScore) > 0
          || score == bestScore && endpoint.toString().compareTo(best.toString()) < 0) {
        best = endpoint;
        bestScore = score;
      }
    }
    return best;
  }

  /** FNV-1a over the UTF-8 bytes, then SplitMix64's finalizer to spread the bits. */
  static long hash(String text) {
    long h = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }
}
