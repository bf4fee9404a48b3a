package io.portico.proxy;

import io.portico.proxy.upstream.UpstreamCall;

/** What counts an upstream attempt as in flight shares: when the attempt is over. */
final class UpstreamAttempt {

  private UpstreamAttempt() {
  }

  /**
   * Runs {@code first} and {@code second} (each may be null; nothing is watched when both are)
   * once {@code upstream}'s response has been fully received, or the attempt failed (no
   * response, or a reset): the moment it stops occupying its endpoint and connection. One watch
   * serves both, since each costs two future listeners per request.
   */
  static void onEnd(UpstreamCall upstream, Runnable first, Runnable second) {
    if (first == null && second == null) {
      return;
    }
    upstream.response().onComplete(ar -> {
      if (ar.failed()) {
        run(first, second);
      } else {
        ar.result().end().onComplete(end -> run(first, second));
      }
    });
  }

  private static void run(Runnable first, Runnable second) {
    if (first != null) {
      first.run();
    }
    if (second != null) {
      second.run();
    }
  }
}
