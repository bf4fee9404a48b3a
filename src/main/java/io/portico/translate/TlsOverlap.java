package io.portico.translate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds listeners whose TLS configuration overlaps another's on the same port (Gateway API
 * {@code OverlappingTLSConfig}, reason {@code OverlappingHostnames}): two listeners that
 * terminate TLS on one port where one's hostname covers some host of the other's, such as
 * {@code *.example.com} and {@code foo.example.com}, or a listener without hostname and any
 * other. Both are still served (the most specific hostname wins the SNI lookup), but a client
 * that coalesces HTTP/2 connections may send a request for one over a connection set up with
 * the other's certificate, which is what the condition warns about. The spec requires the
 * hostname check; overlapping certificates are not compared.
 */
final class TlsOverlap {

  static final String OVERLAPPING_TLS_CONFIG = "OverlappingTLSConfig";
  static final String REASON_OVERLAPPING_HOSTNAMES = "OverlappingHostnames";

  private TlsOverlap() {
  }

  /**
   * Marks every listener of one Gateway (its own and its ListenerSets', as served together)
   * whose hostname overlaps that of another listener terminating TLS on the same port.
   */
  static void mark(List<ListenerState> listeners) {
    List<ListenerState> terminating = new ArrayList<>();
    for (ListenerState listener : listeners) {
      if (listener.accepted && listener.conflictReason == null && terminatesTls(listener)) {
        terminating.add(listener);
      }
    }
    for (ListenerState listener : terminating) {
      List<String> others = new ArrayList<>();
      for (ListenerState other : terminating) {
        if (other != listener && other.port() == listener.port()
            && overlap(listener.hostname(), other.hostname())) {
          others.add(other.describeTo(listener) + " (hostname " + shown(other.hostname()) + ")");
        }
      }
      if (!others.isEmpty()) {
        listener.overlapMessage = listener.describe() + ": hostname "
            + shown(listener.hostname()) + " overlaps " + String.join(", ", others)
            + " on port " + listener.port() + "; a client reusing one TLS connection for both"
            + " may reach one listener with the other's certificate";
      }
    }
  }

  private static boolean terminatesTls(ListenerState listener) {
    return "HTTPS".equals(listener.spec.getProtocol())
        || ListenerPhase.MODE_TERMINATE.equals(listener.tlsMode);
  }

  private static boolean overlap(String a, String b) {
    String x = a == null ? Hostnames.ANY : a.toLowerCase(Locale.ROOT);
    String y = b == null ? Hostnames.ANY : b.toLowerCase(Locale.ROOT);
    return Hostnames.covers(x, y) || Hostnames.covers(y, x);
  }

  private static String shown(String hostname) {
    return hostname == null ? "(any)" : hostname;
  }
}
