package io.portico.cli;

import io.portico.Portico;
import io.portico.PorticoOptions;
import io.vertx.core.Future;

import java.util.concurrent.ExecutionException;

/**
 * A running quickstart: the built-in echo backends and the gateway in front of them.
 *
 * <p>The backends start first. The gateway proxies from the moment its listener ports are bound,
 * before {@link Portico#start} even completes; a request reaching it while the backends are not
 * listening yet would get 502, and three of those in a row make the sticky route's passive health
 * check eject the pod for 30 s. So the quickstart answers 200 from its very first request.
 */
final class Quickstart {

  private final QuickstartBackends backends;
  private final Portico gateway;

  private Quickstart(QuickstartBackends backends, Portico gateway) {
    this.backends = backends;
    this.gateway = gateway;
  }

  /**
   * Starts the echo backends of {@code options}' configuration directory, then a gateway serving
   * it; returns once both are serving. Fails as {@link Portico#start} does, and then leaves
   * nothing running.
   */
  static Quickstart start(PorticoOptions options) throws ExecutionException, InterruptedException {
    QuickstartBackends backends = QuickstartBackends.start(options.configDirectory());
    try {
      Portico gateway = Portico.start(options).toCompletionStage().toCompletableFuture().get();
      return new Quickstart(backends, gateway);
    } catch (ExecutionException | InterruptedException | RuntimeException e) {
      // The gateway's failure is what the caller reports; the backends close in the background.
      backends.close();
      throw e;
    }
  }

  /** Returns the gateway. */
  Portico gateway() {
    return gateway;
  }

  /** Returns how many echo backends listen. */
  int backends() {
    return backends.count();
  }

  /**
   * Closes the gateway, then the backends, so that the gateway never proxies to a backend that
   * is already gone; the future completes once every port is released.
   */
  Future<Void> close() {
    return gateway.close().eventually(backends::close);
  }
}
