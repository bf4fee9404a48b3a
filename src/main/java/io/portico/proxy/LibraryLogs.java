package io.portico.proxy;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import io.vertx.core.logging.SLF4JLogDelegateFactory;
import io.vertx.core.spi.logging.LogDelegate;
import io.vertx.core.spi.logging.LogDelegateFactory;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * Sends what Netty and Vert.x log about a connection a client broke through
 * {@link ClientFailures}: counted in {@code portico_client_failures_total{cause}} and logged at
 * most once a minute, instead of a line (or a 60-line stack trace) per connection that a hostile
 * client can repeat as fast as it can connect.
 *
 * <p>Three places in the libraries log per connection: Vert.x's {@code ConnectionBase}, an
 * error line for a connection's exception when no handler is set, which every HTTP/2 client
 * reaches that breaks the protocol before its SETTINGS frame (a corrupt preface, another frame
 * first), before Vert.x hands the connection to Portico; Netty's {@code DefaultChannelPipeline},
 * a warning with the stack trace when an exception reaches a pipeline's end, which HTTP/1.x
 * garbage does while Vert.x tells HTTP/1.1 from h2c (1 connection in ~400 mutated requests); and Netty's
 * {@code DefaultPromise}, a warning with the stack trace when a listener throws, which Vert.x
 * 5.0's {@code Http2ConnectionBase.onConnectionError} does (a null stream) each time a stream
 * reset cannot be written because the connection is already closing, e.g. after a client sent
 * more malformed streams than Netty resets. Only failures a client causes are taken; anything
 * else is logged as before, since it may be a bug.
 *
 * <p>The log lines carry no connection. Upstream connections get a handler of their own once
 * they are up ({@link UpstreamConnectionSetup}), so their failures do not reach
 * {@code ConnectionBase}'s log; one that breaks HTTP/2 before its SETTINGS frame still does, and
 * is counted under the same cause (its requests are answered and counted as upstream failures).
 *
 * <p>The loggers are created when the libraries' classes load, so {@link #install()} runs first
 * in {@code main}; a JVM that loaded them before keeps its loggers.
 */
public final class LibraryLogs {

  /** The system property naming Vert.x's log delegate factory. */
  static final String VERTX_FACTORY_PROPERTY = "vertx.logger-delegate-factory-class-name";

  private static final String CONNECTION_BASE = "io.vertx.core.net.impl.ConnectionBase";
  private static final Set<String> NETTY_FILTERED = Set.of(
      "io.netty.channel.DefaultChannelPipeline", "io.netty.util.concurrent.DefaultPromise");

  private static volatile boolean installed;

  private LibraryLogs() {
  }

  /**
   * Installs the filters for the loggers Netty and Vert.x create from now on, unless Vert.x's
   * log delegate factory was chosen on the command line. Idempotent.
   */
  @SuppressWarnings("deprecation") // Slf4JLoggerFactory's public constructor, to subclass it
  public static synchronized void install() {
    if (installed) {
      return;
    }
    installed = true;
    InternalLoggerFactory.setDefaultFactory(new NettyLoggers());
    if (System.getProperty(VERTX_FACTORY_PROPERTY) == null) {
      System.setProperty(VERTX_FACTORY_PROPERTY, VertxLogs.class.getName());
    }
  }

  /**
   * Returns the client failure behind a connection's exception a library would log, or null
   * when it is not one a client causes.
   */
  static ClientFailureCause classify(Throwable failure) {
    if (isProtocolError(failure)) {
      return ClientFailureCause.PROTOCOL_ERROR;
    }
    if (isVertxResetOnClosingConnection(failure)
        || failure instanceof io.netty.handler.codec.PrematureChannelClosureException) {
      return ClientFailureCause.CONNECTION_CLOSED;
    }
    return ClientFailures.classify(failure);
  }

  /**
   * Whether {@code failure} is the peer breaking HTTP/2 (Netty's {@link Http2Exception}) or TLS,
   * or a decoder refusing what it read ({@link DecoderException} of its own, such as a frame too
   * long): not an exception of Portico's code that a decoder passed on.
   */
  private static boolean isProtocolError(Throwable failure) {
    if (failure instanceof DecoderException && failure.getCause() == null
        || thrownByHttpDecoding(failure)) {
      return true;
    }
    // A few causes deep: a chain set by hand could loop.
    Throwable t = failure;
    for (int depth = 0; t != null && depth < 8; depth++, t = t.getCause()) {
      if (t instanceof Http2Exception || t instanceof SSLException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether Netty's HTTP/1.x decoding threw {@code failure} on what it read (a request line
   * without a version, a header line without a colon): it does when the first bytes of a
   * connection are replayed to it while Vert.x tells HTTP/1.1 from h2c, before Vert.x's own
   * handler is in the pipeline to receive the refusal as a message.
   */
  private static boolean thrownByHttpDecoding(Throwable failure) {
    StackTraceElement[] trace = failure.getStackTrace();
    if (!(failure instanceof IllegalArgumentException) || trace.length == 0) {
      return false;
    }
    String thrower = trace[0].getClassName();
    return thrower.startsWith("io.netty.handler.codec.http.HttpObjectDecoder")
        || thrower.equals("io.netty.handler.codec.http.HttpVersion")
        || thrower.equals("io.netty.handler.codec.http.HttpMethod");
  }

  /**
   * Whether {@code failure} is Vert.x 5.0's null stream in {@code onConnectionError}: a stream
   * reset Netty could not write to a connection that is closing.
   */
  private static boolean isVertxResetOnClosingConnection(Throwable failure) {
    if (!(failure instanceof NullPointerException)) {
      return false;
    }
    StackTraceElement[] trace = failure.getStackTrace();
    return trace.length > 0
        && trace[0].getClassName().equals("io.vertx.core.http.impl.Http2ConnectionBase")
        && trace[0].getMethodName().equals("onConnectionError");
  }

  /** What the once-a-minute log line quotes for {@code failure}. */
  static Object example(Throwable failure) {
    return isVertxResetOnClosingConnection(failure)
        ? "a stream reset not written to an HTTP/2 connection already closing (Vert.x 5.0: "
            + failure + " in Http2ConnectionBase.onConnectionError)"
        : failure;
  }

  /** Netty's SLF4J loggers, two of them filtered. */
  private static final class NettyLoggers extends Slf4JLoggerFactory {

    @SuppressWarnings("deprecation")
    NettyLoggers() {
    }

    @Override
    public InternalLogger newInstance(String name) {
      InternalLogger logger = super.newInstance(name);
      if (!NETTY_FILTERED.contains(name)) {
        return logger;
      }
      return (InternalLogger) Proxy.newProxyInstance(InternalLogger.class.getClassLoader(),
          new Class<?>[] {InternalLogger.class}, (proxy, method, args) -> {
            if (isWarnWithCause(method, args)) {
              Throwable cause = (Throwable) args[1];
              ClientFailureCause clientCause = classify(cause);
              if (clientCause != null) {
                ClientFailures.reportOutsideVerticle(clientCause, example(cause));
                return null;
              }
            }
            try {
              return method.invoke(logger, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
    }

    private static boolean isWarnWithCause(Method method, Object[] args) {
      return method.getName().equals("warn") && args != null && args.length == 2
          && args[0] instanceof String && args[1] instanceof Throwable;
    }
  }

  /**
   * Vert.x's SLF4J delegates, {@code ConnectionBase}'s filtered. Named by
   * {@value #VERTX_FACTORY_PROPERTY}, so Vert.x creates it by reflection.
   */
  public static final class VertxLogs implements LogDelegateFactory {

    private final SLF4JLogDelegateFactory slf4j = new SLF4JLogDelegateFactory();

    @Override
    public boolean isAvailable() {
      return slf4j.isAvailable();
    }

    @Override
    public LogDelegate createDelegate(String name) {
      LogDelegate delegate = slf4j.createDelegate(name);
      return name.equals(CONNECTION_BASE) ? new ConnectionFailureLog(delegate) : delegate;
    }
  }

  /**
   * {@code ConnectionBase}'s log. It passes the exception itself only when debug is on, so
   * this says debug is on to get it, then logs what is not a client's failure as Vert.x would
   * have: the message, with the stack trace only when debug is really on.
   */
  private static final class ConnectionFailureLog implements LogDelegate {

    private final LogDelegate delegate;

    ConnectionFailureLog(LogDelegate delegate) {
      this.delegate = delegate;
    }

    @Override
    public void error(Object message, Throwable failure) {
      ClientFailureCause cause = classify(failure);
      if (cause != null) {
        ClientFailures.reportOutsideVerticle(cause, example(failure));
      } else if (delegate.isDebugEnabled()) {
        delegate.error(message, failure);
      } else {
        delegate.error(message);
      }
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public String implementation() {
      return delegate.implementation();
    }

    @Override
    public boolean isWarnEnabled() {
      return delegate.isWarnEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
      return delegate.isInfoEnabled();
    }

    @Override
    public boolean isTraceEnabled() {
      return delegate.isTraceEnabled();
    }

    @Override
    public void error(Object message) {
      delegate.error(message);
    }

    @Override
    public void warn(Object message) {
      delegate.warn(message);
    }

    @Override
    public void warn(Object message, Throwable failure) {
      delegate.warn(message, failure);
    }

    @Override
    public void info(Object message) {
      delegate.info(message);
    }

    @Override
    public void info(Object message, Throwable failure) {
      delegate.info(message, failure);
    }

    @Override
    public void debug(Object message) {
      delegate.debug(message);
    }

    @Override
    public void debug(Object message, Throwable failure) {
      delegate.debug(message, failure);
    }

    @Override
    public void trace(Object message) {
      delegate.trace(message);
    }

    @Override
    public void trace(Object message, Throwable failure) {
      delegate.trace(message, failure);
    }

    @Override
    public Object unwrap() {
      return delegate.unwrap();
    }
  }
}
