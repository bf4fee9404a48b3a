package io.portico.proxy;

import io.vertx.core.MultiMap;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Copies headers between the client and upstream sides without the hop-by-hop headers of
 * RFC 9110 section 7.6.1, including any header the Connection header names.
 */
final class HopByHopHeaders {

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive",
      "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
      "transfer-encoding", "upgrade");

  private HopByHopHeaders() {
  }

  /** Copies {@code from} into {@code to}, leaving out hop-by-hop headers and {@code skip}. */
  static void copy(MultiMap from, MultiMap to, String skip) {
    // Connection may be sent on several lines, which together form one list.
    List<String> connection = from.getAll("connection");
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (isHopByHop(name) || name.equalsIgnoreCase(skip)
          || !connection.isEmpty() && namedIn(connection, name)) {
        continue;
      }
      to.add(name, header.getValue());
    }
  }

  static boolean isHopByHop(String name) {
    return HOP_BY_HOP.contains(isLowerCase(name) ? name : name.toLowerCase(Locale.ROOT));
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

  private static boolean isLowerCase(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return false;
      }
    }
    return true;
  }
}
