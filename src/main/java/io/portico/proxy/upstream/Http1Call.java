package io.portico.proxy.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.PromiseInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.impl.VertxHandler;
import io.vertx.core.streams.WriteStream;

import java.util.ArrayDeque;

/**
 * One request on a connection of {@link Http1Upstreams}, and its answer ({@link Answer}).
 *
 * <p>The head goes out with the first part of the body (a body-less request: head and end in
 * one write); the headers are Vert.x's {@link HeadersMultiMap}, which is also Netty's
 * {@link HttpHeaders}, so the encoder writes them without a copy. The answer's chunks are handed
 * over as decoded, in the memory they were read into (small reads copied to the heap, as Vert.x
 * does, since pooled memory must not be dropped unreleased). 1xx answers are skipped (Portico
 * sends no {@code Expect}; 103 Early Hints are not relayed).
 *
 * <p>The connection goes back to the pool once the answer has arrived and the request has been
 * sent whole, unless either side said {@code Connection: close} (or spoke HTTP/1.0 without
 * keep-alive). An answer that ends before its request (an early 413, say) leaves the
 * connection to the rest of the body and closes it then. A reset closes the connection
 * (HTTP/1.1 cannot cancel a request).
 */
final class Http1Call implements UpstreamCall {

  /** The trailers of answers without any. */
  private static final MultiMap NO_TRAILERS = new HeadersAdaptor(EmptyHttpHeaders.INSTANCE);

  private final ContextInternal context;
  private final HttpMethod method;
  private final String uri;
  private final HeadersMultiMap headers = HeadersMultiMap.httpHeaders();
  private final PromiseInternal<UpstreamAnswer> response;
  /** The connection while this request holds it, else null. */
  private Http1Connection connection;
  private boolean chunked;
  private boolean headSent;
  private boolean requestEnded;
  /** Whether the connection is closed once the request is sent (answer ended before it). */
  private boolean closeWhenSent;
  /** Whether the call is over: answered and sent, failed or reset. */
  private boolean done;
  /** Whether an informational (1xx) answer is being skipped. */
  private boolean informational;
  private Answer answer;
  private Handler<Throwable> exceptionHandler;
  private Handler<Void> drainHandler;

  Http1Call(ContextInternal context, HttpMethod method, String uri) {
    this.context = context;
    this.method = method;
    this.uri = uri.isEmpty() ? "/" : uri;
    this.response = context.promise();
  }

  void attach(Http1Connection assigned) {
    connection = assigned;
  }

  // The request.

  @Override
  public MultiMap headers() {
    return headers;
  }

  @Override
  public void authority(HostAndPort authority) {
    // As Vert.x: the port only when it is not HTTP's default.
    headers.set(HttpHeaderNames.HOST, authority.port() == 80 || authority.port() < 0
        ? authority.host() : authority.host() + ':' + authority.port());
  }

  @Override
  public void setChunked(boolean chunked) {
    this.chunked = chunked;
  }

  @Override
  public Future<UpstreamAnswer> response() {
    return response.future();
  }

  @Override
  public Future<UpstreamAnswer> send() {
    if (!requestEnded && connection != null) {
      // Nobody waits for this write (no promise per request): a failure reaches
      // Http1Connection.exceptionCaught, which fails the call.
      Channel channel = connection.channel;
      channel.writeAndFlush(endMessage(null), channel.voidPromise());
    } else {
      end();
    }
    return response.future();
  }

  @Override
  public Future<Void> write(Buffer data) {
    if (requestEnded) {
      return context.failedFuture(new IllegalStateException("request already ended"));
    }
    if (connection == null) {
      return context.failedFuture(new HttpClosedException("Connection was closed"));
    }
    Channel channel = connection.channel;
    writeHeadIfNeeded(channel);
    return written(channel, new DefaultHttpContent(((BufferInternal) data).getByteBuf()));
  }

  @Override
  public Future<Void> end() {
    return end(null);
  }

  @Override
  public Future<Void> end(Buffer last) {
    if (requestEnded) {
      return context.succeededFuture();
    }
    if (connection == null) {
      requestEnded = true;
      return context.failedFuture(new HttpClosedException("Connection was closed"));
    }
    Channel channel = connection.channel;
    Future<Void> written = written(channel, endMessage(last));
    if (closeWhenSent) {
      release(false);
    }
    return written;
  }

  /**
   * Ends the request: the message that carries its end, with {@code last} (null: nothing) as
   * the last of its body; the whole request when its head has not gone out yet.
   */
  private Object endMessage(Buffer last) {
    requestEnded = true;
    ByteBuf content = last == null ? Unpooled.EMPTY_BUFFER : ((BufferInternal) last).getByteBuf();
    if (headSent) {
      return content.isReadable() ? new DefaultLastHttpContent(content)
          : LastHttpContent.EMPTY_LAST_CONTENT;
    }
    headSent = true;
    if (!chunked && content.isReadable() && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      headers.set(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(content.readableBytes()));
    }
    frame();
    return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method.toNetty(), uri, content,
        headers, EmptyHttpHeaders.INSTANCE);
  }

  private void writeHeadIfNeeded(Channel channel) {
    if (!headSent) {
      headSent = true;
      frame();
      channel.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, method.toNetty(), uri, headers),
          channel.voidPromise());
    }
  }

  private void frame() {
    if (chunked) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
    }
  }

  /** Writes and flushes {@code message}; the future completes once it is written. */
  private Future<Void> written(Channel channel, Object message) {
    PromiseInternal<Void> promise = context.promise();
    channel.writeAndFlush(message).addListener(promise)
        .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    return promise.future();
  }

  @Override
  public Http1Call exceptionHandler(Handler<Throwable> handler) {
    exceptionHandler = handler;
    return this;
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    return this; // Netty's channel watermarks bound what is queued.
  }

  @Override
  public boolean writeQueueFull() {
    return connection != null && !connection.channel.isWritable();
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    drainHandler = handler;
    return this;
  }

  /** The connection can take writes again. */
  void writable() {
    Handler<Void> handler = drainHandler;
    if (handler != null && !requestEnded) {
      handler.handle(null);
    }
  }

  @Override
  public void reset(long code, Throwable cause) {
    if (done) {
      if (answer != null) {
        answer.drop();
      }
      if (closeWhenSent) {
        release(false); // The rest of the body will not come.
      }
      return;
    }
    // The connection closes even when nothing went out on it, as with Vert.x's client: a
    // request abandoned before it was sent (its client left) is rare.
    failed(cause != null ? cause : new StreamResetException(code));
  }

  @Override
  public void reset() {
    reset(0, null);
  }

  @Override
  public UpstreamConnection connection() {
    return connection;
  }

  /** Whether an answer has begun to arrive: its head, or an informational answer being read. */
  boolean answerBegun() {
    return answer != null || informational;
  }

  /**
   * Fails the call: the connection is closed, the answer (awaited or in progress) fails with
   * {@code cause}, and so does a request still being sent.
   */
  void failed(Throwable cause) {
    if (done) {
      return;
    }
    done = true;
    release(false);
    if (answer == null) {
      response.tryFail(cause);
    } else {
      answer.failed(cause);
    }
    if (!requestEnded && exceptionHandler != null) {
      exceptionHandler.handle(cause);
    }
  }

  private void release(boolean reusable) {
    Http1Connection held = connection;
    connection = null;
    if (held != null) {
      held.release(this, reusable);
    }
  }

  /** Handles what the codec decoded from the connection. */
  void received(Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse head) {
      if (head.decoderResult().isFailure()) {
        ReferenceCountUtil.release(msg);
        failed(malformed(head.decoderResult().cause()));
        return;
      }
      if (head.status().code() < 200) {
        informational = true;
      } else {
        answer = new Answer(head);
        response.tryComplete(answer);
      }
    }
    if (msg instanceof HttpContent content) {
      content(content);
    }
  }

  private void content(HttpContent content) {
    if (content.decoderResult().isFailure()) {
      content.release();
      failed(malformed(content.decoderResult().cause()));
      return;
    }
    if (informational || answer == null) {
      content.release();
      if (content instanceof LastHttpContent) {
        informational = false;
      }
      return;
    }
    ByteBuf data = content.content();
    if (data.isReadable()) {
      answer.chunk(BufferInternal.buffer(VertxHandler.safeBuffer(data)));
    } else {
      data.release();
    }
    if (content instanceof LastHttpContent last) {
      answer.arrived(last.trailingHeaders());
    }
  }

  /**
   * The failure of an answer Netty's decoder refused (a {@link DecoderException}, whatever the
   * decoder's own exception): the endpoint saw the request, so it is not taken for a closed
   * pooled connection (see Forwarder).
   */
  private static DecoderException malformed(Throwable cause) {
    return cause instanceof DecoderException decoder ? decoder
        : new DecoderException("malformed answer: " + cause.getMessage(), cause);
  }

  /**
   * The {@code timeout} of a {@code Keep-Alive} header ({@code timeout=5, max=1000}): how many
   * seconds the endpoint keeps an idle connection open; -1 when there is none or it is not a
   * number.
   */
  static int keepAliveTimeout(String header) {
    if (header == null) {
      return -1;
    }
    for (String parameter : header.split(",")) {
      String[] nameAndValue = parameter.trim().split("=", 2);
      if (nameAndValue.length == 2 && nameAndValue[0].trim().equalsIgnoreCase("timeout")) {
        String value = nameAndValue[1].trim();
        if (value.isEmpty() || value.length() > 9 || !value.chars().allMatch(Character::isDigit)) {
          return -1;
        }
        return Integer.parseInt(value);
      }
    }
    return -1;
  }

  /** The answer has arrived whole: the connection is done with, for this request. */
  private void answered(boolean keepAlive) {
    done = true;
    if (requestEnded) {
      release(keepAlive);
    } else {
      // The request is still being sent: the rest of its body goes out, then the connection
      // closes (its framing after an early answer is not worth trusting).
      closeWhenSent = true;
    }
  }

  /** The answer, handed over once its head has arrived. */
  private final class Answer implements UpstreamAnswer {

    /** Marks the end among the chunks held while paused. */
    private static final Object END = new Object();

    private final HttpResponse head;
    private final MultiMap answerHeaders;
    private MultiMap trailers = NO_TRAILERS;
    private Handler<Buffer> handler;
    private Handler<Void> endHandler;
    private Handler<Throwable> failureHandler;
    private boolean paused;
    /** Chunks (and the end) that arrived while paused, or null. */
    private ArrayDeque<Object> held;
    /** Whether the end was delivered, or the answer failed or was dropped. */
    private boolean over;
    private boolean endedWell;
    private Throwable failure;
    private PromiseInternal<Void> end;

    Answer(HttpResponse head) {
      this.head = head;
      // Decoded into Vert.x's header map (see Http1Upstreams), a MultiMap already.
      this.answerHeaders = head.headers() instanceof MultiMap map ? map
          : new HeadersAdaptor(head.headers());
    }

    @Override
    public int statusCode() {
      return head.status().code();
    }

    @Override
    public String statusMessage() {
      return head.status().reasonPhrase();
    }

    @Override
    public MultiMap headers() {
      return answerHeaders;
    }

    @Override
    public MultiMap trailers() {
      return trailers;
    }

    @Override
    public void handler(Handler<Buffer> handler) {
      this.handler = handler;
    }

    @Override
    public void endHandler(Handler<Void> handler) {
      this.endHandler = handler;
    }

    @Override
    public void failureHandler(Handler<Throwable> handler) {
      this.failureHandler = handler;
    }

    @Override
    public void pause() {
      paused = true;
      if (connection != null && !closeWhenSent) {
        connection.channel.config().setAutoRead(false);
      }
    }

    @Override
    public void resume() {
      paused = false;
      while (!paused && held != null && !held.isEmpty()) {
        Object next = held.pollFirst();
        if (next == END) {
          deliverEnd();
        } else {
          deliver((Buffer) next);
        }
      }
      if (!paused && connection != null && !closeWhenSent) {
        connection.channel.config().setAutoRead(true);
      }
    }

    @Override
    public Future<Void> end() {
      if (end == null) {
        end = context.promise();
        if (endedWell) {
          end.complete();
        } else if (failure != null) {
          end.fail(failure);
        }
      }
      return end.future();
    }

    @Override
    public void reset() {
      Http1Call.this.reset();
    }

    void chunk(Buffer chunk) {
      if (over) {
        RelayBuffers.release(chunk);
      } else if (paused || held != null && !held.isEmpty()) {
        hold(chunk);
      } else {
        deliver(chunk);
      }
    }

    void arrived(HttpHeaders trailing) {
      if (!trailing.isEmpty()) {
        trailers = trailing instanceof MultiMap map ? map : new HeadersAdaptor(trailing);
      }
      if (connection != null) {
        int endpointIdleSeconds = keepAliveTimeout(head.headers().get(HttpHeaderNames.KEEP_ALIVE));
        if (endpointIdleSeconds >= 0) {
          connection.endpointIdleNanos = endpointIdleSeconds * 1_000_000_000L;
        }
      }
      answered(HttpUtil.isKeepAlive(head));
      if (over) {
        return;
      }
      if (paused || held != null && !held.isEmpty()) {
        hold(END);
      } else {
        deliverEnd();
      }
    }

    private void hold(Object part) {
      if (held == null) {
        held = new ArrayDeque<>(4);
      }
      held.addLast(part);
    }

    private void deliver(Buffer chunk) {
      Handler<Buffer> current = handler;
      if (current != null) {
        current.handle(chunk);
      } else {
        RelayBuffers.release(chunk);
      }
    }

    private void deliverEnd() {
      over = true;
      endedWell = true;
      if (endHandler != null) {
        endHandler.handle(null);
      }
      if (end != null) {
        end.tryComplete();
      }
    }

    void failed(Throwable cause) {
      if (over) {
        return;
      }
      drop();
      failure = cause;
      if (failureHandler != null) {
        failureHandler.handle(cause);
      }
      if (end != null) {
        end.tryFail(cause);
      }
    }

    /** Gives back what is held and delivers nothing more. */
    void drop() {
      over = true;
      if (held != null) {
        for (Object part : held) {
          if (part instanceof Buffer chunk) {
            RelayBuffers.release(chunk);
          }
        }
        held = null;
      }
    }
  }
}
