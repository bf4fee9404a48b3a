package io.portico.provider;

import io.portico.resource.ResourceSnapshot;

/**
 * Where a {@link Provider} delivers its snapshots, each with the moment the provider first saw
 * a change the snapshot holds: the configuration verticle measures from there how long a change
 * takes to reach the proxies ({@code portico_config_propagation_seconds}).
 */
@FunctionalInterface
public interface SnapshotSink {

  /** The change time of a snapshot no change caused: the first of a start, or a test's. */
  long UNTIMED = Long.MIN_VALUE;

  /**
   * @param firstChangeNanos {@link System#nanoTime()} when the provider saw the first change
   *     this snapshot holds (a watch event, a file event), or {@link #UNTIMED}
   */
  void accept(ResourceSnapshot snapshot, long firstChangeNanos);

  /** Delivers a snapshot without a change time. */
  default void accept(ResourceSnapshot snapshot) {
    accept(snapshot, UNTIMED);
  }
}
