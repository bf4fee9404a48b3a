package io.portico.proxy;

import io.netty.channel.unix.Errors;
import io.vertx.core.Context;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Keeps what clients cause out of the error log. A client that resets its HTTP/2 streams before
 * they are forwarded (rapid reset: thousands a second on one connection), closes its connection
 * mid-request, whose request is already gone when Portico gets to it, or that breaks the
 * protocol (see {@link LibraryLogs}) is not a Portico failure: each such event is counted
 * ({@code portico_client_failures_total{cause}}) and logged at most once a minute per cause, as
 * one line without a stack trace saying how many there were. Anything else a handler on a
 * proxy event loop throws is still logged as an error with its stack trace: that is a bug.
 */
final class ClientFailures {

  private static final Logger LOG = LoggerFactory.getLogger(ClientFailures.class);

  /** How often at most one cause is logged. */
  static final Duration LOG_INTERVAL = Duration.ofMinutes(1);

  /** Counts and rate-limited log lines of one cause, shared by every event loop. */
  static final class CauseLog {
    final ClientFailureCause cause;
    final AtomicLong total = new AtomicLong();
    final AtomicLong sinceLogged = new AtomicLong();
    /** Nanos of the last line; Long.MIN_VALUE before the first. */
    final AtomicLong lastLogged = new AtomicLong(Long.MIN_VALUE);

    CauseLog(ClientFailureCause cause) {
      this.cause = cause;
    }

    /**
     * Counts one event; returns the line to log when a minute has passed since the last one
     * (the first event is logged at once), else null.
     */
    String record(Object failure, long nowNanos) {
      total.incrementAndGet();
      sinceLogged.incrementAndGet();
      long last = lastLogged.get();
      if (last != Long.MIN_VALUE && nowNanos - last < LOG_INTERVAL.toNanos()) {
        return null;
      }
      if (!lastLogged.compareAndSet(last, nowNanos)) {
        return null; // Another event loop logs this minute's line.
      }
      long count = sinceLogged.getAndSet(0);
      return "client-caused failures (" + cause.label() + "): " + count
          + (last == Long.MIN_VALUE ? "" : " in the last minute") + ", e.g. " + failure
          + "; counted in portico_client_failures_total{cause=\"" + cause.label()
          + "\"}, logged at most once a minute";
    }
  }

  private static final CauseLog[] LOGS = new CauseLog[ClientFailureCause.values().length];

  static {
    for (ClientFailureCause cause : ClientFailureCause.values()) {
      LOGS[cause.ordinal()] = new CauseLog(cause);
    }
  }

  private static volatile LongSupplier clock = System::nanoTime;

  /** Exceptions no handler caught and the client did not cause, every event loop together. */
  private static final LongAdder UNHANDLED = new LongAdder();

  private ClientFailures() {
  }

  /**
   * Handles what handlers on {@code context} (a proxy verticle's, where its HTTP servers and
   * their requests live) throw and nobody caught.
   */
  static void install(Context context, ProxyMetrics metrics) {
    context.exceptionHandler(failure -> {
      ClientFailureCause cause = classify(failure);
      if (cause == null) {
        UNHANDLED.increment();
        metrics.eventLoopError();
        LOG.error("unhandled exception on a proxy event loop (a bug in Portico)", failure);
        return;
      }
      report(metrics, cause, failure);
    });
  }

  /**
   * Counts one client-caused failure found by the request path itself (not thrown), e.g. a
   * stream the client reset while its request waited for an upstream connection.
   *
   * @param example what happened, for the once-a-minute log line
   */
  static void report(ProxyMetrics metrics, ClientFailureCause cause, Object example) {
    metrics.clientFailure(cause);
    logAtMostOnceAMinute(cause, example);
  }

  /**
   * Counts one client-caused failure a library was about to log (see {@link LibraryLogs}),
   * outside any verticle: on a connection Vert.x has not handed to Portico yet, or in Netty's
   * pipeline. The counter is looked up in the registry, as for other rare events.
   */
  static void reportOutsideVerticle(ClientFailureCause cause, Object example) {
    ProxyMetrics.countOutsideVerticle(cause);
    logAtMostOnceAMinute(cause, example);
  }

  private static void logAtMostOnceAMinute(ClientFailureCause cause, Object example) {
    String line = LOGS[cause.ordinal()].record(example, clock.getAsLong());
    if (line != null) {
      LOG.warn("{}", line);
    }
  }

  /** Returns what the client did to cause {@code failure}, or null when the client did not. */
  static ClientFailureCause classify(Throwable failure) {
    if (failure instanceof StreamResetException) {
      return ClientFailureCause.STREAM_RESET;
    }
    if (failure instanceof IllegalStateException
        && String.valueOf(failure.getMessage()).contains("has already been read")) {
      return ClientFailureCause.REQUEST_ALREADY_READ;
    }
    if (failure instanceof HttpClosedException || failure instanceof ClosedChannelException
        || failure instanceof Errors.NativeIoException) {
      return ClientFailureCause.CONNECTION_CLOSED;
    }
    if (failure instanceof IOException || failure instanceof VertxException) {
      String message = String.valueOf(failure.getMessage()).toLowerCase(Locale.ROOT);
      if (message.contains("connection reset") || message.contains("broken pipe")
          || message.contains("connection was closed") || message.contains("stream was closed")
          || message.contains("stream reset")) {
        return ClientFailureCause.CONNECTION_CLOSED;
      }
    }
    return null;
  }

  /** How many failures of {@code cause} this process has seen (every event loop). */
  static long total(ClientFailureCause cause) {
    return LOGS[cause.ordinal()].total.get();
  }

  /** How many exceptions reached a proxy context's handler unclassified (bugs), in this JVM. */
  static long unhandled() {
    return UNHANDLED.sum();
  }
}
