package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Classification of upstream client failures into statuses and log labels. */
class UpstreamFailureTest {

  private static Throwable causedBy(Throwable outer, Throwable cause) {
    outer.initCause(cause);
    return outer;
  }

  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(new ConnectException("Connection refused"),
            UpstreamFailure.CONNECT_REFUSED, 502),
        Arguments.of(new ConnectTimeoutException("connection timed out after 1000 ms"),
            UpstreamFailure.CONNECT_TIMEOUT, 502),
        Arguments.of(new UnknownHostException("backend.invalid"),
            UpstreamFailure.UNKNOWN_HOST, 502),
        Arguments.of(new TimeoutException("no response"),
            UpstreamFailure.RESPONSE_TIMEOUT, 504),
        Arguments.of(new NoStackTraceTimeoutException(
                "The timeout period of 30000ms has been exceeded while executing GET /"),
            UpstreamFailure.RESPONSE_TIMEOUT, 504),
        // RequestOptions.connectTimeout while connecting or waiting for a pooled connection
        Arguments.of(new NoStackTraceTimeoutException(
                "The timeout of 200 ms has been exceeded when getting a connection to 127.0.0.1:80"),
            UpstreamFailure.CONNECT_TIMEOUT, 502),
        Arguments.of(new HttpClosedException("Connection was closed"),
            UpstreamFailure.RESET, 502),
        Arguments.of(new StreamResetException(8),
            UpstreamFailure.RESET, 502),
        Arguments.of(new IOException("Connection reset by peer"),
            UpstreamFailure.RESET, 502),
        Arguments.of(new ClosedChannelException(),
            UpstreamFailure.RESET, 502),
        Arguments.of(new IllegalStateException("something else"),
            UpstreamFailure.RESET, 502),
        // wrapped causes are classified by the cause
        Arguments.of(causedBy(new VertxException("failed"), new ConnectException("refused")),
            UpstreamFailure.CONNECT_REFUSED, 502),
        Arguments.of(causedBy(new RuntimeException("failed"), new TimeoutException("slow")),
            UpstreamFailure.RESPONSE_TIMEOUT, 504),
        Arguments.of(causedBy(new RuntimeException("outer"),
                causedBy(new IOException("middle"), new ConnectTimeoutException("timed out"))),
            UpstreamFailure.CONNECT_TIMEOUT, 502),
        Arguments.of(causedBy(new IOException("outer"), new UnknownHostException("x.invalid")),
            UpstreamFailure.UNKNOWN_HOST, 502),
        Arguments.of(causedBy(new RuntimeException("outer"), new IOException("reset")),
            UpstreamFailure.RESET, 502));
  }

  @ParameterizedTest(name = "{0} -> {1} ({2})")
  @MethodSource("failures")
  void classifiesUpstreamClientFailures(Throwable failure, UpstreamFailure expected,
      int status) {
    UpstreamFailure classified = UpstreamFailure.of(failure);
    assertThat(classified).isEqualTo(expected);
    assertThat(classified.status()).isEqualTo(status);
  }

  @ParameterizedTest(name = "{0}: status {1}, label {2}, beforeConnect {3}")
  @CsvSource({
      "NO_ROUTE,         404, no_route,         false",
      "INVALID_BACKEND,  500, invalid_backend,  false",
      "NO_ENDPOINTS,     503, no_endpoints,     false",
      "CONNECT_REFUSED,  502, connect_refused,  true",
      "CONNECT_TIMEOUT,  502, connect_timeout,  true",
      "UNKNOWN_HOST,     502, unknown_host,     true",
      "RESPONSE_TIMEOUT, 504, response_timeout, false",
      "RESET,            502, upstream_reset,   false",
      "CLIENT_GONE,      499, client_gone,      false",
      "BAD_REQUEST,      400, bad_request,      false",
  })
  void onlyFailuresBeforeConnectAreSafeToRetryElsewhere(UpstreamFailure failure, int status,
      String label, boolean beforeConnect) {
    assertThat(failure.status()).isEqualTo(status);
    assertThat(failure.label()).isEqualTo(label);
    assertThat(failure.beforeConnect()).isEqualTo(beforeConnect);
  }
}
