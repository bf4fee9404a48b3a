package io.portico.proxy;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;

import static org.assertj.core.api.Assertions.assertThat;

/** What {@link LibraryLogs} takes from the libraries' logs as a client's failure, and what not. */
class LibraryLogsTest {

  @Test
  void theClientsBrokenFramingIsAProtocolError() {
    assertThat(LibraryLogs.classify(Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR,
        "First received frame was not SETTINGS"))).isEqualTo(ClientFailureCause.PROTOCOL_ERROR);
    assertThat(LibraryLogs.classify(new DecoderException(new SSLHandshakeException("no"))))
        .isEqualTo(ClientFailureCause.PROTOCOL_ERROR);
    assertThat(LibraryLogs.classify(new TooLongFrameException("frame too long")))
        .isEqualTo(ClientFailureCause.PROTOCOL_ERROR);
  }

  /**
   * What Netty's HTTP/1.x decoder throws on a client's garbage while Vert.x tells HTTP/1.1 from
   * h2c (no handler of Vert.x's is there yet to take its refusal), and a close before the head.
   */
  @Test
  void http1GarbageDecodedBeforeVertxsHandlerIsTheClients() {
    assertThat(LibraryLogs.classify(thrownBy(
        new IllegalArgumentException("text is empty (possibly HTTP/0.9)"),
        "io.netty.handler.codec.http.HttpVersion", "valueOf")))
        .isEqualTo(ClientFailureCause.PROTOCOL_ERROR);
    assertThat(LibraryLogs.classify(thrownBy(new IllegalArgumentException("No colon found"),
        "io.netty.handler.codec.http.HttpObjectDecoder", "splitHeader")))
        .isEqualTo(ClientFailureCause.PROTOCOL_ERROR);
    assertThat(LibraryLogs.classify(thrownBy(new IllegalArgumentException("bad argument"),
        "io.portico.proxy.Forwarder", "forward"))).isNull();
    assertThat(LibraryLogs.classify(new io.netty.handler.codec.PrematureChannelClosureException(
        "Connection closed before received headers")))
        .isEqualTo(ClientFailureCause.CONNECTION_CLOSED);
  }

  @Test
  void anExceptionOfCodeADecoderCalledIsNotTheClients() {
    assertThat(LibraryLogs.classify(new DecoderException(new NullPointerException()))).isNull();
    assertThat(LibraryLogs.classify(new IllegalStateException("bug"))).isNull();
    assertThat(LibraryLogs.classify(new NullPointerException("elsewhere"))).isNull();
  }

  @Test
  void vertxsNullStreamOnAClosingConnectionIsAClosedConnection() {
    assertThat(LibraryLogs.classify(vertxNullStream()))
        .isEqualTo(ClientFailureCause.CONNECTION_CLOSED);
    assertThat(LibraryLogs.example(vertxNullStream()).toString())
        .contains("stream reset not written").contains("Http2ConnectionBase.onConnectionError");
  }

  /**
   * Netty's promise logger is the filtered one (the test run installs {@link LibraryLogs}
   * before Netty loads, as {@code main} does): a listener's exception a client caused is
   * counted instead of logged; any other is passed on.
   */
  @Test
  void nettysPromiseLoggerCountsWhatAClientCausedAndPassesTheRest() {
    InternalLogger promises =
        InternalLoggerFactory.getInstance("io.netty.util.concurrent.DefaultPromise");
    long closed = ClientFailures.total(ClientFailureCause.CONNECTION_CLOSED);
    promises.warn("An exception was thrown by a listener", vertxNullStream());
    assertThat(ClientFailures.total(ClientFailureCause.CONNECTION_CLOSED)).isEqualTo(closed + 1);
    promises.warn("An exception was thrown by a listener", new IllegalStateException("bug"));
    assertThat(ClientFailures.total(ClientFailureCause.CONNECTION_CLOSED)).isEqualTo(closed + 1);
    assertThat(promises.isWarnEnabled()).isEqualTo(
        InternalLoggerFactory.getInstance("io.netty.channel.nio.NioEventLoop").isWarnEnabled());
  }

  private static <T extends Throwable> T thrownBy(T failure, String className, String method) {
    failure.setStackTrace(new StackTraceElement[] {
        new StackTraceElement(className, method, null, 1)});
    return failure;
  }

  private static NullPointerException vertxNullStream() {
    NullPointerException npe =
        new NullPointerException("Cannot read field \"context\" because \"stream\" is null");
    npe.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("io.vertx.core.http.impl.Http2ConnectionBase", "onConnectionError",
            "Http2ConnectionBase.java", 115)});
    return npe;
  }
}
