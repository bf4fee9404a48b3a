package io.portico.controller;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How long configuration changes take to reach the proxies, in
 * {@code portico_config_propagation_seconds} (from the moment the provider saw the change, a
 * watch event or a file event, to the new endpoints or table being published to the proxy
 * verticles; by {@code path}: {@code endpoints} when only endpoints changed and translation was
 * skipped, {@code translation} otherwise), and how long translations take, in
 * {@code portico_config_translation_seconds}. Both with buckets at the latencies operators set
 * goals in, so a p99 can be read from Prometheus.
 */
final class ControlPlaneMetrics {

  /** Meters that record nothing, for a gateway started without metrics. */
  static final ControlPlaneMetrics NONE = new ControlPlaneMetrics(null);

  private static final Duration[] BUCKETS = {
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
      Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};

  private final Timer endpointsPropagation;
  private final Timer translatedPropagation;
  private final Timer translation;

  /** @param registry where to register the meters; null to record nothing */
  ControlPlaneMetrics(MeterRegistry registry) {
    endpointsPropagation = registry == null ? null : propagation(registry, "endpoints");
    translatedPropagation = registry == null ? null : propagation(registry, "translation");
    translation = registry == null ? null : Timer.builder("portico.config.translation")
        .description("Translating a changed configuration into a routing table")
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  private static Timer propagation(MeterRegistry registry, String path) {
    return Timer.builder("portico.config.propagation")
        .description("From a change the provider saw to the proxies being given it")
        .tag("path", path)
        .serviceLevelObjectives(BUCKETS)
        .register(registry);
  }

  /** Records a translation that took {@code nanos}. */
  void translated(long nanos) {
    if (translation != null) {
      translation.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Records a change published {@code nanos} after it was seen. */
  void propagated(boolean translated, long nanos) {
    Timer timer = translated ? translatedPropagation : endpointsPropagation;
    if (timer != null) {
      timer.record(nanos, TimeUnit.NANOSECONDS);
    }
  }
}
