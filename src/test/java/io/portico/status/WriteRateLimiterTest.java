package io.portico.status;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

/** The limiter on a clock of its own: time passes only when it sleeps or the test says so. */
class WriteRateLimiterTest {

  private final AtomicLong now = new AtomicLong();
  private final AtomicLong slept = new AtomicLong();
  private final WriteRateLimiter limiter = new WriteRateLimiter(100, 10, now::get, nanos -> {
    slept.addAndGet(nanos);
    now.addAndGet(nanos);
  });

  @Test
  void aBurstGoesAtOnceThenWritesAreSpacedByTheRate() throws InterruptedException {
    for (int i = 0; i < 10; i++) {
      limiter.acquire();
    }
    assertThat(slept.get()).isZero();

    for (int i = 0; i < 100; i++) {
      limiter.acquire();
    }
    // 100 more at 100 a second: one second of waiting, within a token's rounding.
    assertThat(slept.get()).isBetween(990_000_000L, 1_010_000_000L);
  }

  @Test
  void aQuietTimeRefillsTheBurstButNoMore() throws InterruptedException {
    for (int i = 0; i < 10; i++) {
      limiter.acquire();
    }
    now.addAndGet(60_000_000_000L); // a minute without writes

    for (int i = 0; i < 10; i++) {
      limiter.acquire();
    }
    assertThat(slept.get()).isZero();
    limiter.acquire();
    assertThat(slept.get()).isBetween(9_000_000L, 11_000_000L);
  }
}
