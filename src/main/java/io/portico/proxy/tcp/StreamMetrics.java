package io.portico.proxy.tcp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.portico.ir.StreamProtocol;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counts connections per protocol and {@link StreamOutcome} in
 * {@code portico_stream_connections_total}, with meters registered once. The counts are also
 * kept locally so they can be read without a metrics registry.
 */
public final class StreamMetrics {

  private final Counter[][] counters;
  private final LongAdder[][] counts;

  /** @param registry where to register the counters; null to count only locally */
  public StreamMetrics(MeterRegistry registry) {
    int protocols = StreamProtocol.values().length;
    int outcomes = StreamOutcome.values().length;
    counts = new LongAdder[protocols][outcomes];
    counters = registry == null ? null : new Counter[protocols][outcomes];
    for (StreamProtocol protocol : StreamProtocol.values()) {
      for (StreamOutcome outcome : StreamOutcome.values()) {
        counts[protocol.ordinal()][outcome.ordinal()] = new LongAdder();
        if (registry != null) {
          counters[protocol.ordinal()][outcome.ordinal()] = Counter
              .builder("portico.stream.connections")
              .description("TLS passthrough, TCP and UDP connections by what the proxy did")
              .tag("protocol", protocol.name().toLowerCase(java.util.Locale.ROOT))
              .tag("outcome", outcome.label())
              .register(registry);
        }
      }
    }
  }

  void count(StreamProtocol protocol, StreamOutcome outcome) {
    counts[protocol.ordinal()][outcome.ordinal()].increment();
    if (counters != null) {
      counters[protocol.ordinal()][outcome.ordinal()].increment();
    }
  }

  /**
   * Returns how many connections of {@code protocol} ended with the outcome labelled
   * {@code outcome} (e.g. {@code no_route}) in this process; 0 for an unknown label.
   */
  public long total(StreamProtocol protocol, String outcome) {
    for (StreamOutcome value : StreamOutcome.values()) {
      if (value.label().equals(outcome)) {
        return counts[protocol.ordinal()][value.ordinal()].sum();
      }
    }
    return 0;
  }
}
