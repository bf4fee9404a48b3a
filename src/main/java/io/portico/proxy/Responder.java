package io.portico.proxy;

import io.portico.ir.Cors;
import io.portico.ir.Filters;
import io.portico.ir.Redirect;
import io.portico.ir.Route;
import io.portico.ir.UnenforcedPolicy;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.net.HostAndPort;

import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * Writes every answer Portico gives by itself, without an upstream response: the failures of
 * the Gateway API and of forwarding ({@link UpstreamFailure}), the redirects of RequestRedirect
 * filters and the answers to CORS preflights. Each stage of the request path calls it; it calls
 * none of them. One instance per proxy verticle.
 */
final class Responder {

  private final ProxyMetrics metrics;

  Responder(ProxyMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Answers a request Portico could not forward with the failure's status and a one-line body
   * naming what failed; the label is also sent as {@code x-portico-failure} for debugging. A
   * gRPC call gets the failure as a gRPC status instead (see {@link GrpcAnswers}). A
   * response already started is reset instead; one already ended is left alone (e.g. the rule's
   * request timeout answered, then the late upstream failure came): one request, one counted
   * outcome.
   */
  void fail(HttpServerRequest request, UpstreamFailure failure, String detail) {
    HttpServerResponse response = request.response();
    if (response.ended()) {
      return;
    }
    metrics.failed(failure);
    if (response.headWritten() || response.closed()) {
      if (!response.closed()) {
        response.reset();
      }
      return;
    }
    release(request);
    // An answer Portico generates must not pin a session (nor pass on an upstream's cookies).
    response.headers().remove(HttpHeaders.SET_COOKIE);
    boolean grpc = GrpcAnswers.isGrpc(request);
    response.setStatusCode(failureHead(failure, detail, grpc, response::putHeader));
    if (grpc) {
      response.end();
    } else {
      response.end(detail + "\n");
    }
  }

  /**
   * Puts the headers of an answer Portico makes for {@code failure} through {@code header}
   * and returns its status: for a gRPC call a trailers-only answer, 200 with the failure as a
   * gRPC status (it travels in the one HEADERS frame that ends the stream), else the
   * failure's status and a one-line plain-text body to come; the label as
   * {@code x-portico-failure} either way.
   */
  private static int failureHead(UpstreamFailure failure, String detail, boolean grpc,
      BiConsumer<CharSequence, CharSequence> header) {
    if (grpc) {
      header.accept(HttpHeaderNames.CONTENT_TYPE, "application/grpc");
      header.accept("grpc-status", Integer.toString(GrpcAnswers.status(failure.status())));
      header.accept("grpc-message", GrpcAnswers.message(detail));
      header.accept("x-portico-failure", failure.label());
      return 200;
    }
    header.accept(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    header.accept("x-portico-failure", failure.label());
    return failure.status();
  }

  /**
   * Answers with {@code failure} instead of an upstream answer whose head was copied into the
   * response but not written yet: what was copied (its Content-Length, framing, cookies) is
   * dropped first, then as {@link #fail}. One already partly written is reset, as there.
   */
  void failInsteadOfAnswer(HttpServerRequest request, UpstreamFailure failure, String detail) {
    HttpServerResponse response = request.response();
    if (!response.headWritten()) {
      response.headers().clear();
    }
    fail(request, failure, detail);
  }

  /**
   * Returns {@code cause}'s message for a one-line answer body: it may quote an upstream's
   * bytes, so control characters are replaced.
   */
  static String printable(Throwable cause) {
    return String.valueOf(cause.getMessage()).replaceAll("\\p{Cntrl}", "?");
  }

  /**
   * Answers a request whose framing cannot be trusted (a malformed head or chunked body, a
   * transfer coding Portico does not implement) as {@link #fail} does, with
   * {@code Connection: close}, then closes the connection: nothing more read from it could be
   * told apart from the rest of this message (RFC 9112 6.3, 11.2). A response already started is
   * reset instead.
   */
  void refuse(HttpServerRequest request, UpstreamFailure failure, String detail) {
    HttpServerResponse response = request.response();
    if (request.version() == HttpVersion.HTTP_2) {
      fail(request, failure, detail);
      return;
    }
    if (!response.ended() && !response.headWritten() && !response.closed()) {
      response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
      fail(request, failure, detail);
    } else if (!response.ended()) {
      metrics.failed(failure);
    }
    // Closing through Vert.x flushes the answer first, also from inside a read, where a write
    // is otherwise only flushed once the read completes (too late when the decoder failed:
    // Vert.x then closes the channel at once).
    request.connection().close();
  }

  /**
   * Answers a connection whose request head did not arrive within the request headers timeout:
   * 408 with {@code Connection: close}, then closes it. Written below Vert.x (there is no
   * request yet to answer through), by the connection's watch (see {@link ClientConnections}).
   */
  void requestHeaderTimeout(ChannelHandlerContext context) {
    metrics.failed(UpstreamFailure.REQUEST_HEADER_TIMEOUT);
    context.writeAndFlush(requestHeaderTimeoutAnswer()).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Answers an HTTP/2 request whose {@code :authority} or Host Vert.x cannot parse, below
   * Vert.x (see {@link Http2AuthorityGuard}): 400 naming the Host as {@link #fail} words it,
   * or for a gRPC call (by its {@code contentType}) the same as a trailers-only gRPC status. A
   * request whose body is still coming is then reset with NO_ERROR, as RFC 9113 8.1 lets a
   * server that answered early stop it.
   */
  void badHttp2Authority(ChannelHandlerContext context, Http2ConnectionHandler http2,
      int streamId, CharSequence contentType, boolean endOfStream) {
    UpstreamFailure failure = UpstreamFailure.BAD_REQUEST;
    String detail = RequestHead.Refusal.BAD_HOST.detail;
    metrics.failed(failure);
    Http2ConnectionEncoder encoder = http2.encoder();
    boolean grpc = GrpcAnswers.isGrpc(contentType);
    Http2Headers head = new DefaultHttp2Headers();
    head.status(Integer.toString(failureHead(failure, detail, grpc, head::set)));
    encoder.writeHeaders(context, streamId, head, 0, grpc, context.newPromise());
    if (!grpc) {
      encoder.writeData(context, streamId,
          Unpooled.copiedBuffer(detail + "\n", StandardCharsets.US_ASCII), 0, true,
          context.newPromise());
    }
    if (!endOfStream) {
      http2.resetStream(context, streamId, Http2Error.NO_ERROR.code(), context.newPromise());
    }
    context.flush();
  }

  /** The 408 of a request head that did not arrive in time. */
  static FullHttpResponse requestHeaderTimeoutAnswer() {
    byte[] body = "request header timeout\n".getBytes(StandardCharsets.US_ASCII);
    FullHttpResponse response = new DefaultFullHttpResponse(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
        HttpResponseStatus.REQUEST_TIMEOUT, Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
        .set("x-portico-failure", UpstreamFailure.REQUEST_HEADER_TIMEOUT.label())
        .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    return response;
  }

  /**
   * The same 408 as bytes on the wire, for a connection that has no HTTP encoder yet (see
   * {@link FirstHeadDeadline}): encoded by Netty's own encoder at the first such timeout (a
   * holder class, so start-up does not pay for it), then reused.
   */
  static byte[] requestHeaderTimeoutBytes() {
    return RequestHeaderTimeoutBytes.ENCODED;
  }

  private static final class RequestHeaderTimeoutBytes {
    static final byte[] ENCODED = encoded(requestHeaderTimeoutAnswer());
  }

  private static byte[] encoded(FullHttpResponse response) {
    EmbeddedChannel channel = new EmbeddedChannel(new HttpResponseEncoder());
    channel.writeOutbound(response);
    ByteBuf wire = Unpooled.buffer();
    for (ByteBuf part = channel.readOutbound(); part != null; part = channel.readOutbound()) {
      wire.writeBytes(part);
      part.release();
    }
    channel.finishAndReleaseAll();
    byte[] bytes = ByteBufUtil.getBytes(wire);
    wire.release();
    return bytes;
  }

  /**
   * Answers a request Netty's decoder refused (Vert.x's invalid request handler): 414 for a
   * request line too long, 431 for headers too large, else 400; always with
   * {@code Connection: close}.
   */
  void invalidHead(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    UpstreamFailure failure = cause instanceof TooLongHttpLineException ? UpstreamFailure.URI_TOO_LONG
        : cause instanceof TooLongHttpHeaderException ? UpstreamFailure.HEADERS_TOO_LARGE
        : UpstreamFailure.BAD_REQUEST;
    refuse(request, failure, "malformed request (" + cause.getClass().getSimpleName() + ")");
  }

  /**
   * Answers {@code request} with {@code redirect} (from the rule, or from the picked backendRef
   * whose filters are {@code backendFilters}) without contacting any backend. The rule's and the
   * backendRef's response header modifiers apply to the redirect too.
   *
   * @param path the normalized request path
   * @param listenerPort the Gateway listener port the request came in on
   */
  void redirect(HttpServerRequest request, Route route, Filters backendFilters,
      Redirect redirect, String path, HostAndPort authority, int listenerPort) {
    String location = redirect.location(request.isSSL() ? "https" : "http", authority.host(),
        listenerPort, path, request.query(), route.match().path());
    metrics.redirected();
    HttpServerResponse response = request.response();
    release(request); // The body, if any, is read and dropped.
    response.setStatusCode(redirect.statusCode()).putHeader(HttpHeaders.LOCATION, location);
    RequestFilters.modifyResponseHeaders(response.headers(), route.filters(), backendFilters);
    response.end();
  }

  /** Answers the CORS preflight {@code request} as the rule's {@code cors} policy says. */
  void preflight(HttpServerRequest request, Cors cors) {
    release(request);
    HttpServerResponse response = request.response().setStatusCode(204);
    CorsPolicy.addPreflightHeaders(request, response.headers(), cors);
    response.end();
  }

  /**
   * Answers a request whose path is not served as sent: 400 when it cannot be (a fragment, say),
   * else a 307 to its canonical form (an escaped slash, as Envoy Gateway's default
   * {@code UnescapeAndRedirect}).
   */
  void nonCanonicalPath(HttpServerRequest request, PathNormalizer.Result canonical) {
    if (canonical.outcome() == PathNormalizer.Result.Outcome.REJECT) {
      fail(request, UpstreamFailure.BAD_REQUEST, canonical.detail());
      return;
    }
    metrics.redirected();
    release(request); // The body, if any, is read and dropped.
    request.response().setStatusCode(307).putHeader(HttpHeaders.LOCATION, canonical.path()).end();
  }

  /**
   * Answers a request of a route that a security policy Portico cannot enforce targets: 500
   * with {@code x-portico-failure: security_policy_not_enforced} and a body naming the policy,
   * never the backend (nothing fails open). The translator marked the route.
   */
  void unenforcedPolicy(HttpServerRequest request, UnenforcedPolicy policy) {
    fail(request, UpstreamFailure.SECURITY_POLICY_NOT_ENFORCED, policy.kind() + " "
        + policy.policy() + " targets this route and Portico cannot enforce it yet");
  }

  /**
   * Lets the rest of {@code request} (its body, if any) flow once it is forwarded or answered.
   * An ended request is left alone: Vert.x's HTTP/2 request throws "Request has already been
   * read" when resumed after its end (a retry of a body-less HTTP/2 GET, an answer after one),
   * and that exception, counted as a client failure, used to leave the client waiting.
   */
  static void release(HttpServerRequest request) {
    if (!request.isEnded()) {
      request.resume();
    }
  }
}
