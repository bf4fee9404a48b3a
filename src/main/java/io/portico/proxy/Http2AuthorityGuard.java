package io.portico.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;

/**
 * Finds the HTTP/2 requests whose {@code :authority} (or Host header) is not a host[:port]
 * Vert.x can parse, before Vert.x reads them, and has {@link Responder} answer each with a 400
 * on its own stream.
 *
 * <p>Vert.x parses both while creating the stream, and its parser throws on some malformed
 * percent-encodings ({@code a%00b}, {@code a%.b}): the exception fails the whole connection
 * (GOAWAY), so one bad request ended every other stream of that connection, those of other
 * users too when a proxy or CDN multiplexes them on one connection. On HTTP/1.1 the same
 * request is a 400 naming the Host header ({@link RequestHead.Refusal#BAD_HOST}); this gives
 * HTTP/2 the same answer, and the connection keeps serving. It sits between Netty's decoder
 * and Vert.x, installed when Vert.x hands the connection over (at its first SETTINGS frame,
 * before any request on it is read).
 */
final class Http2AuthorityGuard extends Http2FrameListenerDecorator {

  private final Http2ConnectionHandler handler;
  private final Responder responder;

  private Http2AuthorityGuard(Http2FrameListener listener, Http2ConnectionHandler handler,
      Responder responder) {
    super(listener);
    this.handler = handler;
    this.responder = responder;
  }

  /** Puts the guard in front of the listener of {@code handler}'s decoder (once). */
  static void install(Http2ConnectionHandler handler, Responder responder) {
    Http2ConnectionDecoder decoder = handler.decoder();
    Http2FrameListener listener = decoder.frameListener();
    if (listener != null && !(listener instanceof Http2AuthorityGuard)) {
      decoder.frameListener(new Http2AuthorityGuard(listener, handler, responder));
    }
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext context, int streamId, Http2Headers headers,
      int padding, boolean endOfStream) throws Http2Exception {
    if (!refused(context, streamId, headers, endOfStream)) {
      super.onHeadersRead(context, streamId, headers, padding, endOfStream);
    }
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext context, int streamId, Http2Headers headers,
      int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream)
      throws Http2Exception {
    if (!refused(context, streamId, headers, endOfStream)) {
      super.onHeadersRead(context, streamId, headers, streamDependency, weight, exclusive,
          padding, endOfStream);
    }
  }

  /**
   * Whether Vert.x can parse {@code authority} (null: absent) without throwing. Its parser
   * throws only in percent-decoding, so a value without '%' (every request but a hostile one)
   * is left to Vert.x and to {@link RequestHead}, which refuse the rest, without a second parse
   * on the request path.
   */
  private static boolean parses(CharSequence authority) {
    if (authority == null) {
      return true;
    }
    for (int i = 0; i < authority.length(); i++) {
      if (authority.charAt(i) == '%') {
        return RequestHead.parse(authority.toString()) != null;
      }
    }
    return true;
  }

  /**
   * Has the request answered and returns true when {@code headers} open one Vert.x cannot
   * parse (see {@link Responder#badHttp2Authority}).
   */
  private boolean refused(ChannelHandlerContext context, int streamId, Http2Headers headers,
      boolean endOfStream) {
    if (headers.method() == null) {
      return false; // Trailers, or a request Vert.x refuses itself (no :method).
    }
    if (parses(headers.authority()) && parses(headers.get(HttpHeaderNames.HOST))) {
      return false;
    }
    responder.badHttp2Authority(context, handler, streamId, headers.get("content-type"),
        endOfStream);
    return true;
  }
}
