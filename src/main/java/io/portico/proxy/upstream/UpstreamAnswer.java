package io.portico.proxy.upstream;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/**
 * An endpoint's answer to one {@link UpstreamCall}: its head at once, its body, trailers and end
 * as they arrive, with back-pressure. Body chunks handed to {@link #handler} are the consumer's
 * to give back ({@link RelayBuffers#release}) once written or dropped. Confined to the event
 * loop of the request.
 */
public interface UpstreamAnswer {

  int statusCode();

  /** The reason phrase the endpoint sent. */
  String statusMessage();

  MultiMap headers();

  /** The trailers, once the answer has ended (empty before, and when there were none). */
  MultiMap trailers();

  /** Receives the body's chunks, in order; none while paused. */
  void handler(Handler<Buffer> handler);

  /** Runs once the whole answer has arrived (after its last chunk). */
  void endHandler(Handler<Void> handler);

  /** Receives the failure that cuts the answer short (reset, closed connection). */
  void failureHandler(Handler<Throwable> handler);

  /** Stops delivering chunks (and reading from the endpoint) until {@link #resume()}. */
  void pause();

  void resume();

  /** Completes when the answer has ended, fails when it is cut short. */
  Future<Void> end();

  /** Abandons the rest of the answer (see {@link UpstreamCall#reset()}). */
  void reset();

  /** Reads the rest of the answer and drops it, so that its connection can be reused. */
  default void discard() {
    failureHandler(e -> { });
    handler(RelayBuffers::release);
  }
}
