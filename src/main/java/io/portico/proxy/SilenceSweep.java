package io.portico.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

/**
 * Watches, for one proxy verticle, everything that waits on an upstream that may fall silent:
 * attempts waiting for their response head, answers whose body is being relayed. Each is linked
 * into a list through its own fields when it starts waiting and unlinked when it stops; one
 * periodic timer sweeps the list every {@link #SWEEP_MILLIS} ms while it is not empty, and each
 * watched thing decides from its own clock readings whether it has waited too long.
 *
 * <p>Why not a timer per request (Vert.x's request idle timeout): a timer costs a scheduled
 * task, a lambda and a cancellation per request on the hot path, where linking costs a few
 * field writes; and Vert.x's ends with the response head, while an upstream can also fall
 * silent in the middle of its body. The price is precision: a timeout is noticed up to
 * {@link #SWEEP_MILLIS} ms after it passes. Confined to the verticle's event loop.
 */
final class SilenceSweep {

  /** How often the watched things are looked at. */
  static final long SWEEP_MILLIS = 100;

  /** Something the sweep looks at, linked through its own fields (no list node per request). */
  abstract static class Watched {
    private Watched previous;
    private Watched next;

    /**
     * Looks, on the event loop, whether this has waited too long at {@code nowNanos} (a
     * {@link System#nanoTime()} reading) and acts if so; may unwatch itself.
     */
    abstract void checkSilence(long nowNanos);
  }

  /** The verticle's context, where the sweep runs: the one every request is handled on. */
  private final ContextInternal context;
  private Watched first;
  /** The periodic sweep, or -1 while there is nothing to watch. */
  private long timer = -1;

  /** Made on the proxy verticle's context (in its start), whose event loop forwards. */
  SilenceSweep(Vertx vertx) {
    this.context = ((ContextInternal) vertx.getOrCreateContext()).unwrap();
  }

  /** The verticle's context, whose event loop runs the sweep. */
  ContextInternal context() {
    return context;
  }

  /** Starts watching {@code watched}, which must not be watched already. */
  void watch(Watched watched) {
    watched.next = first;
    if (first != null) {
      first.previous = watched;
    }
    first = watched;
    if (timer == -1) {
      timer = context.setPeriodic(SWEEP_MILLIS, id -> sweep());
    }
  }

  /** Stops watching {@code watched}; nothing happens if it is not watched. */
  void unwatch(Watched watched) {
    if (watched.previous == null && first != watched) {
      return;
    }
    if (watched.previous != null) {
      watched.previous.next = watched.next;
    } else {
      first = watched.next;
    }
    if (watched.next != null) {
      watched.next.previous = watched.previous;
    }
    watched.previous = null;
    watched.next = null;
  }

  private void sweep() {
    long now = System.nanoTime();
    for (Watched watched = first; watched != null; ) {
      Watched next = watched.next;
      watched.checkSilence(now);
      watched = next;
    }
    if (first == null) {
      context.owner().cancelTimer(timer); // Started again by the next thing to watch.
      timer = -1;
    }
  }
}
