package io.portico.provider;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Makes the uids of objects read from files: unique within the process (a counter) and across
 * runs (a random base drawn once), in the UUID form the API server gives.
 *
 * <p>Not {@link UUID#randomUUID()}: drawing 16 bytes from the system's secure random source for
 * each object cost ~6% of the CPU of a start at 10k routes (10k draws, each mixing through
 * SHA-1, and the compilations of those paths; async-profiler and JFR). A uid names an object;
 * nothing relies on it being unpredictable.
 */
final class ObjectUids {

  private static final long BASE_HIGH;
  private static final long BASE_LOW;
  private static final AtomicLong COUNTER = new AtomicLong();

  static {
    SecureRandom random = new SecureRandom();
    // Version 4 and the IETF variant, as a random UUID: the counter only ever touches the low
    // 48 bits (the node field), so the marks stay intact.
    BASE_HIGH = (random.nextLong() & ~0xF000L) | 0x4000L;
    BASE_LOW = (random.nextLong() & 0x3FFF_0000_0000_0000L) | 0x8000_0000_0000_0000L;
  }

  private ObjectUids() {}

  /** Returns a uid no other call of this process returns. */
  static String next() {
    long n = COUNTER.getAndIncrement();
    return new UUID(BASE_HIGH, BASE_LOW | (n & 0xFFFF_FFFF_FFFFL)).toString();
  }
}
