package io.portico.proxy.lb;

import io.vertx.core.http.HttpClientRequest;

/** What counts an upstream attempt as in flight shares: when the attempt is over. */
public final class UpstreamAttempt {

  private UpstreamAttempt() {
  }

  /**
   * Runs {@code action} once {@code upstream}'s response has been fully received, or the
   * attempt failed (no response, or a reset): the moment it stops occupying its endpoint and
   * connection.
   */
  public static void onEnd(HttpClientRequest upstream, Runnable action) {
    upstream.response().onComplete(ar -> {
      if (ar.failed()) {
        action.run();
      } else {
        ar.result().end().onComplete(end -> action.run());
      }
    });
  }
}
