package io.portico.proxy;

import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.proxy.upstream.RelayBuffers;
import io.portico.proxy.upstream.UpstreamAnswer;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays an upstream answer to the client with back-pressure: its status, its headers without
 * the hop-by-hop ones and as the route's filters (see {@link RequestFilters}) and CORS policy
 * change them, its body and its trailers.
 */
final class ResponseRelay {

  private static final Logger LOG = LoggerFactory.getLogger(ResponseRelay.class);

  /** Watches answers from their head to their end for an upstream gone silent. */
  private final SilenceSweep silence;
  private final ProxyMetrics metrics;
  private final Responder responder;

  ResponseRelay(SilenceSweep silence, ProxyMetrics metrics, Responder responder) {
    this.silence = silence;
    this.metrics = metrics;
    this.responder = responder;
  }

  /**
   * Relays {@code upstream}, the answer {@code endpoint} gave to {@code exchange}, and finishes
   * the exchange when it ends or fails; drops it when the client's response is already closed
   * or ended.
   */
  void relay(UpstreamExchange exchange, UpstreamAnswer upstream, Endpoint endpoint) {
    HttpServerRequest request = exchange.request;
    Filters ruleFilters = exchange.call.ruleFilters();
    Filters backendFilters = exchange.call.backendFilters();
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      // The client left, or the rule's request timeout already answered 504.
      upstream.failureHandler(e -> { }); // The reset below is ours: nothing to report.
      upstream.reset();
      exchange.finish();
      return;
    }
    metrics.forwarded(upstream.statusCode());
    response.setStatusCode(upstream.statusCode());
    String reason = upstream.statusMessage();
    if (request.version() != HttpVersion.HTTP_2 && reason != null
        && !reason.equals(HttpResponseStatus.valueOf(upstream.statusCode()).reasonPhrase())) {
      // Only a reason phrase of the upstream's own: setting one makes a status object each time.
      response.setStatusMessage(reason);
    }
    HopByHopHeaders.copy(upstream.headers(), response.headers(), null);
    RequestFilters.modifyResponseHeaders(response.headers(), ruleFilters, backendFilters);
    if (ruleFilters.cors() != null) {
      CorsPolicy.addResponseHeaders(request, response.headers(), ruleFilters.cors());
    }
    if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH)
        && request.version() != HttpVersion.HTTP_2
        && mayHaveBody(request.method(), upstream.statusCode())) {
      response.setChunked(true);
    }
    new BodyRelay(this, exchange, upstream, response, endpoint).start();
  }

  private static boolean mayHaveBody(HttpMethod method, int status) {
    return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
  }

  /**
   * Relays one answer's body, trailers and end. Piped by hand rather than with send():
   * trailers (gRPC status, chunked trailers) must be copied after the body and before the end.
   *
   * <p>Each chunk is held back until the event loop has handled the input it came with: when the
   * answer's end arrives in the same input (a small answer: head, body and end in one read from
   * the backend), the last chunk goes out with the end, as one write and one flush to the client.
   * Written apart, the end costs HTTP/2 clients a frame, a TLS record and a system call of its
   * own, and chunked HTTP/1.1 clients one more write. A streamed answer loses nothing: what is
   * held is written once the event loop is done with the read that brought it.
   *
   * <p>An upstream that goes silent mid-body for longer than the exchange's upstream timeout
   * ({@code timeouts.backendRequest}, else {@code --upstream-timeout}) is cut: its stream is
   * reset and the client's answer ended early, or answered 504 if nothing of it went out yet
   * (Vert.x writes the head with the first body chunk), counted as
   * {@link UpstreamFailure#RESPONSE_TIMEOUT}. Vert.x's request idle timeout ends with the
   * response head, so without this a stalled body held the client until it gave up. An answer
   * is watched from its head to its end by linking it into its verticle's list (a few field
   * writes), which one periodic timer sweeps every {@link SilenceSweep#SWEEP_MILLIS} ms while it
   * is not empty: no timer, task or allocation per answer, a clock read per chunk, and a cut
   * within that long after the timeout. (A task per answer to watch only those still open
   * after their first read cost 3-6 µs per 16 KiB answer.) Time the upstream spends paused
   * because the client reads slowly does not count.
   */
  private static final class BodyRelay extends SilenceSweep.Watched implements Runnable {

    private final UpstreamExchange exchange;
    private final UpstreamAnswer upstream;
    private final HttpServerResponse response;
    private final Endpoint endpoint;
    private final HttpServerRequest request;
    private final ResponseRelay owner;
    /** The chunk not written yet, or null. */
    private Buffer held;
    /** Whether a task to write {@link #held} is queued on the event loop. */
    private boolean writeQueued;
    /** When the upstream last sent something (or was resumed), on the nano clock. */
    private long lastHeardNanos;
    /** Whether the upstream is paused for a slow client (its silence is then ours). */
    private boolean paused;
    /** Whether the answer ended, failed or was cut: nothing more to watch or write. */
    private boolean done;

    BodyRelay(ResponseRelay owner, UpstreamExchange exchange, UpstreamAnswer upstream,
        HttpServerResponse response, Endpoint endpoint) {
      this.owner = owner;
      this.exchange = exchange;
      this.upstream = upstream;
      this.response = response;
      this.endpoint = endpoint;
      this.request = exchange.request;
    }

    void start() {
      upstream.failureHandler(e -> {
        LOG.debug("upstream {} failed mid-response: {}", endpoint, e.toString());
        finishEarly();
        if (response.headWritten()) {
          response.reset(); // The client has part of the answer: cutting it is all that is left.
        } else {
          // Nothing went out yet (the head waits for the first chunk, held to the end of its
          // read): a malformed chunk or trailer in the answer's first read gets the client a
          // 502 naming it, not a connection closed without an answer.
          owner.responder.failInsteadOfAnswer(request, UpstreamFailure.RESET,
              "the upstream's answer broke off or was malformed: " + Responder.printable(e));
        }
      });
      upstream.handler(this::chunk);
      upstream.endHandler(v -> end());
      response.closeHandler(v -> {
        finishEarly();
        upstream.reset();
      });
      lastHeardNanos = System.nanoTime();
      if (!done) {
        owner.silence.watch(this);
      }
    }

    private void chunk(Buffer chunk) {
      lastHeardNanos = System.nanoTime();
      if (held != null) {
        write(held);
      }
      held = chunk;
      if (!writeQueued) {
        writeQueued = true;
        owner.silence.context().nettyEventLoop().execute(this);
      }
    }

    /** Writes the held chunk once the event loop has handled the read that brought it. */
    @Override
    public void run() {
      writeQueued = false;
      if (done || response.ended() || response.closed()) {
        dropHeld();
        return;
      }
      Buffer chunk = held;
      held = null;
      if (chunk != null) {
        write(chunk);
      }
    }

    /** Cuts the answer if its upstream has been silent for the whole timeout at {@code now}. */
    @Override
    void checkSilence(long now) {
      if (done) {
        return;
      }
      if (response.ended() || response.closed()) {
        stopWatching();
        return;
      }
      if (paused) {
        lastHeardNanos = now; // Waiting for the client: the upstream is not the silent one.
        return;
      }
      long silentMillis = (now - lastHeardNanos) / 1_000_000;
      if (silentMillis < exchange.upstreamTimeout) {
        return;
      }
      LOG.debug("upstream {} silent for {} ms mid-body: answer to {} {} cut", endpoint,
          silentMillis, request.method(), request.uri());
      finishEarly();
      upstream.failureHandler(e -> { }); // The reset below is ours: nothing to report.
      upstream.reset();
      // A 504 if nothing of the upstream's answer went out, else the answer is cut.
      owner.responder.failInsteadOfAnswer(request, UpstreamFailure.RESPONSE_TIMEOUT,
          "upstream silent for " + silentMillis + " ms after its response head");
    }

    /** Ends the relay without the answer's end: failed, left or cut. */
    private void finishEarly() {
      stopWatching();
      dropHeld();
      exchange.finish();
    }

    private void stopWatching() {
      done = true;
      owner.silence.unwatch(this);
    }

    private void dropHeld() {
      Buffer chunk = held;
      held = null;
      if (chunk != null) {
        RelayBuffers.release(chunk);
      }
    }

    /** Writes {@code chunk}, whose memory goes back once the write is done (or failed). */
    private void write(Buffer chunk) {
      response.write(chunk).onComplete(written -> RelayBuffers.release(chunk));
      if (response.writeQueueFull()) {
        paused = true;
        upstream.pause();
        response.drainHandler(v -> {
          paused = false;
          lastHeardNanos = System.nanoTime();
          upstream.resume();
        });
      }
    }

    private void end() {
      stopWatching();
      if (!upstream.trailers().isEmpty()) {
        if (request.version() != HttpVersion.HTTP_2 && !response.isChunked()) {
          // HTTP/1.1 carries trailers only in a chunked body.
          if (!response.headWritten()) {
            response.headers().remove(HttpHeaders.CONTENT_LENGTH);
            response.setChunked(true);
          }
        }
        if (response.isChunked() || request.version() == HttpVersion.HTTP_2) {
          HopByHopHeaders.copy(upstream.trailers(), response.trailers(), null);
        }
      }
      exchange.finish();
      Buffer last = held;
      held = null;
      if (last != null) {
        response.end(last).onComplete(written -> RelayBuffers.release(last));
      } else {
        response.end();
      }
    }
  }
}
