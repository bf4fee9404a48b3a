package io.portico.proxy;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import io.vertx.core.http.impl.headers.Http2HeadersAdaptor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Copies headers between the client and upstream sides without the hop-by-hop headers of
 * RFC 9110 section 7.6.1, including any header the Connection header names.
 */
final class HopByHopHeaders {

  /**
   * The Netty headers inside Vert.x's {@link HeadersAdaptor}, the view an upstream answer's
   * headers and trailers come in, or null where this Vert.x has no such field. Read through it,
   * names and values are copied as the decoder made them; the adaptor's own iteration turns
   * every name into a new String first (4% of the bytes allocated per proxied request).
   */
  private static final VarHandle ADAPTED = adaptedHeaders();

  private HopByHopHeaders() {
  }

  private static VarHandle adaptedHeaders() {
    try {
      return MethodHandles.privateLookupIn(HeadersAdaptor.class, MethodHandles.lookup())
          .findVarHandle(HeadersAdaptor.class, "headers", HttpHeaders.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** {@code headers} as Netty headers when it is or wraps them, else null. */
  private static HttpHeaders netty(MultiMap headers) {
    if (headers instanceof HttpHeaders decoded) {
      return decoded;
    }
    if (ADAPTED != null && headers instanceof HeadersAdaptor adaptor) {
      return (HttpHeaders) ADAPTED.get(adaptor);
    }
    return null;
  }

  /** Copies {@code from} into {@code to}, leaving out hop-by-hop headers and {@code skip}. */
  static void copy(MultiMap from, MultiMap to, String skip) {
    HttpHeaders decoded = netty(from);
    List<String> connection = connectionOptions(from, decoded);
    // HTTP/2 wants lower-case names: given one already lowered, Vert.x need not make a copy.
    boolean lowerNames = to instanceof Http2HeadersAdaptor;
    if (decoded != null) {
      // Decoded headers (Vert.x's HeadersMultiMap is Netty's HttpHeaders; an answer's come
      // wrapped): walk the entries as they are, without a String and a wrapper per header.
      Iterator<Map.Entry<CharSequence, CharSequence>> entries = decoded.iteratorCharSequence();
      while (entries.hasNext()) {
        Map.Entry<CharSequence, CharSequence> header = entries.next();
        CharSequence name = header.getKey();
        if (isHopByHop(name) || skip != null && AsciiString.contentEqualsIgnoreCase(name, skip)
            || !connection.isEmpty() && listed(connection, name)) {
          continue;
        }
        to.add(lowerNames ? LowerCaseHeaderNames.of(name) : name, header.getValue());
      }
      return;
    }
    for (Map.Entry<String, String> header : from) {
      String name = header.getKey();
      if (isHopByHop(name) || name.equalsIgnoreCase(skip)
          || !connection.isEmpty() && listed(connection, name)) {
        continue;
      }
      to.add(name, header.getValue());
    }
  }

  /** Returns how many {@code name} headers {@code headers} holds (without allocating). */
  static int count(MultiMap headers, String name) {
    if (!(headers instanceof HttpHeaders decoded)) {
      return headers.getAll(name).size();
    }
    int count = 0;
    Iterator<Map.Entry<CharSequence, CharSequence>> entries = decoded.iteratorCharSequence();
    while (entries.hasNext()) {
      if (AsciiString.contentEqualsIgnoreCase(entries.next().getKey(), name)) {
        count++;
      }
    }
    return count;
  }

  /** Case-insensitive, without allocating: this runs for every header of every message. */
  static boolean isHopByHop(CharSequence name) {
    switch (name.length()) {
      case 2:
        return is(name, "te");
      case 7:
        return is(name, "upgrade") || is(name, "trailer");
      case 10:
        return is(name, "connection") || is(name, "keep-alive");
      case 16:
        return is(name, "proxy-connection");
      case 17:
        return is(name, "transfer-encoding");
      case 18:
        return is(name, "proxy-authenticate");
      case 19:
        return is(name, "proxy-authorization");
      default:
        return false;
    }
  }

  private static boolean is(CharSequence name, String lowerCase) {
    return AsciiString.contentEqualsIgnoreCase(name, lowerCase);
  }

  /**
   * The header names {@code headers}' Connection header lists beyond those always dropped: most
   * messages say only {@code keep-alive} or {@code close}, so the list is empty and the copy
   * compares nothing more. Connection may be sent on several lines, which together form one
   * list. Decoded headers are read in place, and a token is made a String only when it has to
   * be kept: every answer of a keep-alive backend carries {@code Connection: keep-alive}, and
   * reading it through {@code getAll} cost a list, an iterator, a wrapper and a substring per
   * answer (~4% of the bytes allocated per proxied request).
   *
   * @param decoded {@code headers} as Netty headers ({@link #netty}), or null
   */
  private static List<String> connectionOptions(MultiMap headers, HttpHeaders decoded) {
    if (decoded == null) {
      List<String> options = null;
      for (String value : headers.getAll("connection")) {
        options = addOptions(value, options);
      }
      return options == null ? List.of() : options;
    }
    List<String> options = null;
    Iterator<Map.Entry<CharSequence, CharSequence>> entries = decoded.iteratorCharSequence();
    while (entries.hasNext()) {
      Map.Entry<CharSequence, CharSequence> header = entries.next();
      if (AsciiString.contentEqualsIgnoreCase(header.getKey(), "connection")) {
        options = addOptions(header.getValue(), options);
      }
    }
    return options == null ? List.of() : options;
  }

  /**
   * Adds the tokens of one Connection value that are neither always dropped nor {@code close}
   * to {@code options} (made when the first one is found), and returns it.
   */
  private static List<String> addOptions(CharSequence value, List<String> options) {
    int length = value.length();
    int start = 0;
    while (start < length) {
      int end = start;
      while (end < length && value.charAt(end) != ',') {
        end++;
      }
      int from = start;
      int to = end;
      while (from < to && isBlank(value.charAt(from))) {
        from++;
      }
      while (to > from && isBlank(value.charAt(to - 1))) {
        to--;
      }
      if (from < to) {
        CharSequence token = value.subSequence(from, to);
        if (!isHopByHop(token) && !is(token, "close")) {
          if (options == null) {
            options = new ArrayList<>(2);
          }
          options.add(token.toString());
        }
      }
      start = end + 1;
    }
    return options;
  }

  private static boolean isBlank(char c) {
    return c == ' ' || c == '\t';
  }

  /** Whether {@code name} is one of {@code options}, case-insensitively, without allocating. */
  private static boolean listed(List<String> options, CharSequence name) {
    for (int i = 0; i < options.size(); i++) {
      if (AsciiString.contentEqualsIgnoreCase(name, options.get(i))) {
        return true;
      }
    }
    return false;
  }
}
