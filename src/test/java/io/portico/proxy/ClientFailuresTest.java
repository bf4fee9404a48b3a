package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Client-caused failures are told from Portico's own, counted, and logged once a minute. */
class ClientFailuresTest {

  @Test
  void failuresTheClientCausedAreToldFromBugs() {
    assertThat(ClientFailures.classify(new StreamResetException(8)))
        .isEqualTo(ClientFailureCause.STREAM_RESET);
    assertThat(ClientFailures.classify(new IllegalStateException("Request has already been read")))
        .isEqualTo(ClientFailureCause.REQUEST_ALREADY_READ);
    assertThat(ClientFailures.classify(new HttpClosedException("Connection was closed")))
        .isEqualTo(ClientFailureCause.CONNECTION_CLOSED);
    assertThat(ClientFailures.classify(new ClosedChannelException()))
        .isEqualTo(ClientFailureCause.CONNECTION_CLOSED);
    assertThat(ClientFailures.classify(new IOException("Connection reset by peer")))
        .isEqualTo(ClientFailureCause.CONNECTION_CLOSED);
    // Anything else is a bug and keeps its stack trace in the log.
    assertThat(ClientFailures.classify(new NullPointerException())).isNull();
    assertThat(ClientFailures.classify(new IllegalStateException("table not set"))).isNull();
    assertThat(ClientFailures.classify(new IOException("No space left on device"))).isNull();
  }

  @Test
  void eachCauseIsLoggedAtMostOnceAMinuteWithTheCountSinceItsLastLine() {
    ClientFailures.CauseLog log = new ClientFailures.CauseLog(ClientFailureCause.STREAM_RESET);
    long minute = Duration.ofMinutes(1).toNanos();
    StreamResetException reset = new StreamResetException(8);

    assertThat(log.record(reset, 0)).startsWith("client-caused failures (stream_reset): 1, e.g. ")
        .doesNotContain("\n");
    for (int i = 1; i <= 17_999; i++) {
      assertThat(log.record(reset, i * 1000L)).isNull();
    }
    assertThat(log.record(reset, minute)).startsWith(
        "client-caused failures (stream_reset): 18000 in the last minute, e.g. ");
    assertThat(log.record(reset, minute + 1)).isNull();
    assertThat(log.total.get()).isEqualTo(18_002);
  }
}
