package io.portico.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

  private static final long NS = 1L;
  private static final long US = 1_000L;
  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;
  private static final long M = 60 * S;
  private static final long H = 60 * M;

  /** Mostly Go's own time.ParseDuration test table. */
  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("0", 0L),
        Arguments.of("5s", 5 * S),
        Arguments.of("30s", 30 * S),
        Arguments.of("1478s", 1478 * S),
        Arguments.of("-5s", -5 * S),
        Arguments.of("+5s", 5 * S),
        Arguments.of("-0", 0L),
        Arguments.of("+0", 0L),
        Arguments.of("5.0s", 5 * S),
        Arguments.of("5.6s", 5 * S + 600 * MS),
        Arguments.of("5.s", 5 * S),
        Arguments.of(".5s", 500 * MS),
        Arguments.of("1.0s", S),
        Arguments.of("1.00s", S),
        Arguments.of("1.004s", S + 4 * MS),
        Arguments.of("1.0040s", S + 4 * MS),
        Arguments.of("100.00100s", 100 * S + MS),
        Arguments.of("1.5s", 1500 * MS),
        Arguments.of("500ms", 500 * MS),
        Arguments.of("10ns", 10 * NS),
        Arguments.of("11us", 11 * US),
        Arguments.of("12\u00b5s", 12 * US),
        Arguments.of("12\u03bcs", 12 * US),
        Arguments.of("13ms", 13 * MS),
        Arguments.of("14s", 14 * S),
        Arguments.of("15m", 15 * M),
        Arguments.of("16h", 16 * H),
        Arguments.of("1m30s", 90 * S),
        Arguments.of("3h30m", 3 * H + 30 * M),
        Arguments.of("10.5s4m", 4 * M + 10 * S + 500 * MS),
        Arguments.of("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
        Arguments.of("1h2m3s4ms5us6ns", H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
        Arguments.of("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
        Arguments.of("52763797000ns", 52763797000L),
        Arguments.of("0.3333333333333333333h", 20 * M),
        Arguments.of("9007199254740993ns", (1L << 53) + 1),
        Arguments.of("9223372036854775807ns", Long.MAX_VALUE),
        Arguments.of("9223372036854775.807us", Long.MAX_VALUE),
        Arguments.of("9223372036s854ms775us807ns", Long.MAX_VALUE),
        Arguments.of("-9223372036854775808ns", Long.MIN_VALUE),
        Arguments.of("-9223372036854775.808us", Long.MIN_VALUE),
        Arguments.of("-9223372036s854ms775us808ns", Long.MIN_VALUE),
        Arguments.of("-2562047h47m16.854775808s", Long.MIN_VALUE),
        Arguments.of("0.100000000000000000000h", 6 * M),
        Arguments.of("0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void parsesLikeGo(String text, long nanos) {
    assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
  }

  @ParameterizedTest(name = "\"{0}\"")
  @ValueSource(strings = {"", "3", "-", "+", "s", ".", "-.", ".s", "+.s", "1d", "1.5", "1s2",
      "1 s", " 1s", "1s ", "1S", "1sec", "0s-1s", "--1s", "1e3s",
      "9223372036854775808ns", "9223372036854775.808us", "9223372036854ms775us808ns",
      "-9223372036854775809ns", "9223372036854775808ns9223372036854775808ns",
      "99999999999999999999s"})
  void rejectsWhatGoRejects(String text) {
    assertThatThrownBy(() -> GoDuration.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duration");
  }
}
