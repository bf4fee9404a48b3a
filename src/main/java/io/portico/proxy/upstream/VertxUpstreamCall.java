package io.portico.proxy.upstream;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.streams.WriteStream;

/** One attempt's request on Vert.x's client. */
final class VertxUpstreamCall implements UpstreamCall {

  private final HttpClientRequest request;

  VertxUpstreamCall(HttpClientRequest request) {
    this.request = request;
  }

  @Override
  public MultiMap headers() {
    return request.headers();
  }

  @Override
  public void authority(HostAndPort authority) {
    request.authority(authority);
  }

  @Override
  public void setChunked(boolean chunked) {
    request.setChunked(chunked);
  }

  @Override
  public Future<UpstreamAnswer> response() {
    return request.response().map(Answer::new);
  }

  @Override
  public Future<UpstreamAnswer> send() {
    return request.send().map(Answer::new);
  }

  @Override
  public Future<Void> write(Buffer data) {
    return request.write(data);
  }

  @Override
  public Future<Void> end() {
    return request.end();
  }

  @Override
  public Future<Void> end(Buffer last) {
    return request.end(last);
  }

  @Override
  public VertxUpstreamCall exceptionHandler(Handler<Throwable> handler) {
    request.exceptionHandler(handler);
    return this;
  }

  @Override
  public WriteStream<Buffer> setWriteQueueMaxSize(int maxSize) {
    request.setWriteQueueMaxSize(maxSize);
    return this;
  }

  @Override
  public boolean writeQueueFull() {
    return request.writeQueueFull();
  }

  @Override
  public WriteStream<Buffer> drainHandler(Handler<Void> handler) {
    request.drainHandler(handler);
    return this;
  }

  @Override
  public void reset(long code, Throwable cause) {
    request.reset(code, cause);
  }

  @Override
  public void reset() {
    request.reset();
  }

  @Override
  public UpstreamConnection connection() {
    HttpConnection connection = request.connection();
    return connection == null ? null : new UpstreamConnection.OfVertx(connection);
  }

  /** The answer to a request on Vert.x's client. */
  private static final class Answer implements UpstreamAnswer {

    private final HttpClientResponse answer;

    Answer(HttpClientResponse answer) {
      this.answer = answer;
    }

    @Override
    public int statusCode() {
      return answer.statusCode();
    }

    @Override
    public String statusMessage() {
      return answer.statusMessage();
    }

    @Override
    public MultiMap headers() {
      return answer.headers();
    }

    @Override
    public MultiMap trailers() {
      return answer.trailers();
    }

    @Override
    public void handler(Handler<Buffer> handler) {
      answer.handler(handler);
    }

    @Override
    public void endHandler(Handler<Void> handler) {
      answer.endHandler(handler);
    }

    @Override
    public void failureHandler(Handler<Throwable> handler) {
      answer.exceptionHandler(handler);
    }

    @Override
    public void pause() {
      answer.pause();
    }

    @Override
    public void resume() {
      answer.resume();
    }

    @Override
    public Future<Void> end() {
      return answer.end();
    }

    @Override
    public void reset() {
      answer.request().reset();
    }
  }
}
