package io.portico.provider;

import io.portico.resource.ConfigProblem;
import io.vertx.core.Future;

import java.util.List;

/**
 * Supplies {@link io.portico.resource.ResourceSnapshot}s from the outside world (a YAML
 * directory, a cluster) to the callback it was created with.
 */
public interface Provider {

  /** Delivers the first complete snapshot, then keeps delivering changed ones. */
  Future<Void> start();

  Future<Void> stop();

  /** Returns the problems of the last read, for the log and the admin API. */
  List<ConfigProblem> problems();
}
