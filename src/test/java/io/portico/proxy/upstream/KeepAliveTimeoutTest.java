package io.portico.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The idle time an endpoint announces in a {@code Keep-Alive} header. */
class KeepAliveTimeoutTest {

  @Test
  void readsTheTimeoutParameterWhereverItStands() {
    assertThat(Http1Call.keepAliveTimeout("timeout=5")).isEqualTo(5);
    assertThat(Http1Call.keepAliveTimeout("timeout=5, max=1000")).isEqualTo(5);
    assertThat(Http1Call.keepAliveTimeout("max=1000, Timeout = 59")).isEqualTo(59);
    assertThat(Http1Call.keepAliveTimeout("timeout=0")).isZero();
  }

  @Test
  void anythingElseIsNoTimeout() {
    assertThat(Http1Call.keepAliveTimeout(null)).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("")).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("max=5")).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("timeout=")).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("timeout=-1")).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("timeout=5s")).isEqualTo(-1);
    assertThat(Http1Call.keepAliveTimeout("timeout=99999999999")).isEqualTo(-1);
  }
}
