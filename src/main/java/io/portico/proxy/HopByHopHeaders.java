package io.portico.proxy;

import io.vertx.core.MultiMap;

import java.util.List;
import java.util.Map;

/**
 * Copies headers between the client and upstream sides without the hop-by-hop headers of
 * RFC 9110 section 7.6.1, including any header the Connection header names.
 */
final class HopByHopHeaders {

  private HopByHopHeaders() {
  }

  /** Copies {@code from} into {@code to}, leaving out hop-by-hop headers and {@code skip}. */
  static void copy(MultiMap from, MultiMap to, String skip) {
    // Connection may be sent on several lines, which together form one list.
    List<String> connection = from.contains("connection") ? from.getAll("connection") : List.of();
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (isHopByHop(name) || name.equalsIgnoreCase(skip)
          || !connection.isEmpty() && namedIn(connection, name)) {
        continue;
      }
      to.add(name, header.getValue());
    }
  }

  /** Case-insensitive, without allocating: this runs for every header of every message. */
  static boolean isHopByHop(String name) {
    switch (name.length()) {
      case 2:
        return name.equalsIgnoreCase("te");
      case 7:
        return name.equalsIgnoreCase("upgrade") || name.equalsIgnoreCase("trailer");
      case 10:
        return name.equalsIgnoreCase("connection") || name.equalsIgnoreCase("keep-alive");
      case 16:
        return name.equalsIgnoreCase("proxy-connection");
      case 17:
        return name.equalsIgnoreCase("transfer-encoding");
      case 18:
        return name.equalsIgnoreCase("proxy-authenticate");
      case 19:
        return name.equalsIgnoreCase("proxy-authorization");
      default:
        return false;
    }
  }

  /** Whether one of the Connection header values lists {@code name} as a token. */
  private static boolean namedIn(List<String> connection, String name) {
    for (String value : connection) {
      if (namedIn(value, name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean namedIn(String connection, String name) {
    int start = 0;
    int length = connection.length();
    while (start < length) {
      int end = connection.indexOf(',', start);
      if (end < 0) {
        end = length;
      }
      String token = connection.substring(start, end).trim();
      if (token.equalsIgnoreCase(name)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

}
