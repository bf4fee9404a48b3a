package io.portico.conformance;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * Polls an expectation until it holds, the way the upstream suite does: at a fixed interval, up
 * to the upstream time limit.
 *
 * <p>Portico's status and routing are a pure function of the files it serves, so once it has
 * published nothing new for {@link #SETTLED} (and the step has waited at least that long), the
 * outcome can no longer change: such a poll fails then instead of at the upstream limit, which
 * keeps a run with failing cases short. {@code -Dportico.conformance.fullTimeouts=true} waits
 * the upstream limits out.
 */
final class Poll {

  /** How long an unchanged gateway state must last before a failing poll gives up early. */
  static final Duration SETTLED = Duration.ofSeconds(5);

  static final Duration INTERVAL = Duration.ofMillis(100);

  private static final boolean FULL_TIMEOUTS = Boolean.getBoolean("portico.conformance.fullTimeouts");

  private Poll() {
  }

  /**
   * Checks {@code check} every {@code interval} until it returns null (holds); it returns what
   * it saw otherwise. Fails with {@code what}, the limit and the last observation.
   */
  static void until(String what, Duration limit, Duration interval, ClusterView view,
      Supplier<String> check) {
    long start = System.nanoTime();
    long deadline = start + limit.toNanos();
    while (true) {
      String seen = check.get();
      if (seen == null) {
        return;
      }
      long now = System.nanoTime();
      boolean settled = !FULL_TIMEOUTS && now - start >= SETTLED.toNanos()
          && view.unchangedFor(SETTLED);
      if (now >= deadline || settled) {
        throw new StepFailure(what + ": not met " + (settled
            ? "after " + Duration.ofNanos(now - start).toSeconds() + " s (Portico's state"
                + " unchanged for " + SETTLED.toSeconds() + " s; upstream limit "
                + limit.toSeconds() + " s)"
            : "within " + limit.toSeconds() + " s") + "; last seen: " + seen);
      }
      pause(interval);
    }
  }

  static void pause(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
