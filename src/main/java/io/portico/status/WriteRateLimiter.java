package io.portico.status;

import java.util.function.LongSupplier;

/**
 * A token bucket for the status writer's requests to the API server: at most {@code perSecond}
 * writes a second on average, {@code burst} at once after a quiet time. Used from one thread
 * (the writer's), which it puts to sleep when the bucket is empty.
 */
final class WriteRateLimiter {

  /** Sleeps the calling thread; a seam for tests. */
  interface Sleeper {
    void sleepNanos(long nanos) throws InterruptedException;
  }

  private final double perNano;
  private final double burst;
  private final LongSupplier clock;
  private final Sleeper sleeper;
  private double tokens;
  private long lastNanos;

  WriteRateLimiter(double perSecond, int burst) {
    this(perSecond, burst, System::nanoTime,
        nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000)));
  }

  WriteRateLimiter(double perSecond, int burst, LongSupplier clock, Sleeper sleeper) {
    if (perSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("perSecond > 0 and burst >= 1 expected");
    }
    this.perNano = perSecond / 1e9;
    this.burst = burst;
    this.clock = clock;
    this.sleeper = sleeper;
    this.tokens = burst;
    this.lastNanos = clock.getAsLong();
  }

  /** Takes one token, sleeping until there is one. */
  void acquire() throws InterruptedException {
    refill();
    if (tokens < 1) {
      sleeper.sleepNanos((long) Math.ceil((1 - tokens) / perNano));
      refill();
    }
    tokens = Math.max(0, tokens - 1);
  }

  private void refill() {
    long now = clock.getAsLong();
    tokens = Math.min(burst, tokens + (now - lastNanos) * perNano);
    lastNanos = now;
  }
}
