package io.portico.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AsciiString;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The HTTP/1.1 codec of an upstream connection: what Netty's {@link HttpClientCodec} does as
 * Portico used it (each answer paired with its request, so that the answer to a HEAD has no body
 * and a 200 to a CONNECT turns the connection into a tunnel), with a decoder that names the
 * common answer headers, and reads the common status lines, with constants.
 *
 * <p>Netty's response decoder makes a new {@link AsciiString} and its bytes for every header
 * name, and three Strings for the status line, of every answer: ~15% of the bytes Portico
 * allocated per proxied request. Its request decoder already keeps constants for the common
 * request headers; this does the same for answers. A name is matched byte for byte, so it is
 * forwarded spelled as the backend sent it.
 */
final class Http1Codec extends CombinedChannelDuplexHandler<HttpResponseDecoder, HttpRequestEncoder> {

  /** The methods of the requests written whose final answer has not been decoded yet. */
  private final ArrayDeque<HttpMethod> awaiting = new ArrayDeque<>(2);
  /** Whether a CONNECT was answered 200: what follows is tunnelled bytes, not HTTP. */
  private boolean tunnel;

  Http1Codec(HttpDecoderConfig config) {
    init(new AnswerDecoder(config), new RequestEncoder());
  }

  /** Netty's request encoder, noting each request's method for its answer. */
  private final class RequestEncoder extends HttpRequestEncoder {
    @Override
    protected void encode(ChannelHandlerContext context, Object message, List<Object> out)
        throws Exception {
      if (message instanceof HttpRequest request) {
        awaiting.offer(request.method());
      }
      super.encode(context, message, out);
    }
  }

  /** Netty's response decoder, paired with the requests, with constant names. */
  private final class AnswerDecoder extends HttpResponseDecoder {

    AnswerDecoder(HttpDecoderConfig config) {
      super(config);
    }

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (tunnel) {
        int readable = actualReadableBytes();
        if (readable > 0) {
          out.add(buffer.readBytes(readable));
        }
        return;
      }
      super.decode(context, buffer, out);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage message) {
      int status = ((HttpResponse) message).status().code();
      if (status >= 100 && status < 200) {
        // An interim answer (103 Early Hints...): the request still waits for its final one.
        return super.isContentAlwaysEmpty(message);
      }
      HttpMethod method = awaiting.poll(); // null when a backend answers more than it was asked
      if (HttpMethod.HEAD.equals(method)) {
        return true;
      }
      if (status == 200 && HttpMethod.CONNECT.equals(method)) {
        tunnel = true;
        awaiting.clear();
        return true;
      }
      return super.isContentAlwaysEmpty(message);
    }

    @Override
    protected AsciiString splitHeaderName(byte[] bytes, int start, int length) {
      AsciiString known = KNOWN_NAMES.find(bytes, start, length);
      return known != null ? known : super.splitHeaderName(bytes, start, length);
    }

    @Override
    protected String splitFirstWordInitialLine(byte[] bytes, int start, int length) {
      String known = KNOWN_STATUS_WORDS.find(bytes, start, length);
      return known != null ? known : super.splitFirstWordInitialLine(bytes, start, length);
    }

    @Override
    protected String splitSecondWordInitialLine(byte[] bytes, int start, int length) {
      String known = KNOWN_STATUS_WORDS.find(bytes, start, length);
      return known != null ? known : super.splitSecondWordInitialLine(bytes, start, length);
    }

    @Override
    protected String splitThirdWordInitialLine(byte[] bytes, int start, int length) {
      String known = KNOWN_STATUS_WORDS.find(bytes, start, length);
      return known != null ? known : super.splitThirdWordInitialLine(bytes, start, length);
    }
  }

  /** The header names answers carry most, as servers commonly spell them and in lower case. */
  static final Constants<AsciiString> KNOWN_NAMES = new Constants<>(AsciiString::of,
      HttpHeaderNames.DATE, HttpHeaderNames.SERVER, HttpHeaderNames.CONTENT_TYPE,
      HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
      HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.ETAG,
      HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.ACCEPT_RANGES, HttpHeaderNames.VARY,
      HttpHeaderNames.SET_COOKIE, HttpHeaderNames.LOCATION, HttpHeaderNames.CONTENT_ENCODING,
      HttpHeaderNames.EXPIRES, HttpHeaderNames.PRAGMA, HttpHeaderNames.AGE,
      HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, HttpHeaderNames.X_FRAME_OPTIONS,
      AsciiString.of("Strict-Transport-Security"), AsciiString.of("X-Content-Type-Options"),
      AsciiString.of("ETag"),
      AsciiString.of("X-Request-Id"), AsciiString.of("grpc-status"),
      AsciiString.of("grpc-message"));

  /** The words of the common status lines: the version, codes and reason phrases. */
  static final Constants<String> KNOWN_STATUS_WORDS = new Constants<>(String::valueOf,
      "HTTP/1.1", "HTTP/1.0", "200", "201", "204", "206", "301", "302", "304", "400", "401",
      "403", "404", "500", "502", "503", "OK", "Created", "No Content", "Partial Content",
      "Moved Permanently", "Found", "Not Modified", "Bad Request", "Unauthorized", "Forbidden",
      "Not Found", "Internal Server Error", "Bad Gateway", "Service Unavailable");

  /**
   * A few constants found by their exact bytes, without allocating: by length, then byte for
   * byte. Each given name is also held in lower case and in the Title-Case servers write.
   */
  static final class Constants<T extends CharSequence> {

    private final Object[][] byLength = new Object[64][];

    @SafeVarargs
    Constants(Function<String, T> make, T... values) {
      for (T value : values) {
        String text = value.toString();
        add(value);
        add(make.apply(text.toLowerCase(Locale.ROOT)));
        add(make.apply(titleCase(text)));
      }
    }

    private void add(T value) {
      int length = value.length();
      if (length >= byLength.length) {
        return;
      }
      Object[] same = byLength[length];
      if (same == null) {
        byLength[length] = new Object[] {value};
        return;
      }
      for (Object held : same) {
        if (held.toString().equals(value.toString())) {
          return;
        }
      }
      Object[] more = Arrays.copyOf(same, same.length + 1);
      more[same.length] = value;
      byLength[length] = more;
    }

    /** Returns the constant spelled as {@code bytes[start, start + length)}, or null. */
    @SuppressWarnings("unchecked")
    T find(byte[] bytes, int start, int length) {
      if (length >= byLength.length) {
        return null;
      }
      Object[] same = byLength[length];
      if (same == null) {
        return null;
      }
      for (Object candidate : same) {
        CharSequence text = (CharSequence) candidate;
        int i = 0;
        while (i < length && text.charAt(i) == (bytes[start + i] & 0xff)) {
          i++;
        }
        if (i == length) {
          return (T) candidate;
        }
      }
      return null;
    }

    /** "content-type" -> "Content-Type". */
    private static String titleCase(String text) {
      StringBuilder title = new StringBuilder(text.length());
      boolean upper = true;
      for (int i = 0; i < text.length(); i++) {
        char c = text.charAt(i);
        title.append(upper ? Character.toUpperCase(c) : Character.toLowerCase(c));
        upper = c == '-' || c == ' ';
      }
      return title.toString();
    }
  }
}
