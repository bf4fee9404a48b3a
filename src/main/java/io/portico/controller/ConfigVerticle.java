package io.portico.controller;

import io.micrometer.core.instrument.MeterRegistry;
import io.portico.bus.Addresses;
import io.portico.bus.ProxyState;
import io.portico.bus.Versioned;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.RoutingTable;
import io.portico.provider.Provider;
import io.portico.provider.SnapshotSink;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ResourceSnapshot;
import io.portico.translate.EndpointsBuilder;
import io.portico.translate.Translation;
import io.portico.translate.Translator;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns snapshots from a {@link Provider} into published routing tables and endpoints. Runs the
 * translator off the event loop, publishes a table only when it differs from the last one (so
 * an unchanged reload costs the proxies nothing), and publishes endpoints on their own address.
 */
public final class ConfigVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigVerticle.class);

  private final Translator translator;
  private final Function<SnapshotSink, Provider> providerFactory;
  private final Consumer<GatewayState> onPublished;
  private final ControlPlaneMetrics metrics;
  private Provider provider;
  private volatile GatewayState state = GatewayState.INITIAL;
  private Set<String> loggedProblems = Set.of();
  /** Completed by the first publication: start() waits for it, so proxies never start empty. */
  private final Promise<Void> firstPublication = Promise.promise();
  /** How many snapshots were translated: the endpoint fast path does not count. */
  private final AtomicLong translations = new AtomicLong();
  /** The newest snapshot not yet taken by a translation task; see {@link #onSnapshot}. */
  private final AtomicReference<Delivery> pending = new AtomicReference<>();
  /** Read and written only by the ordered blocking tasks of {@link #prepare}. */
  private volatile Translated lastTranslated;
  /** The last valid table translated (published, or about to be); same threads as above. */
  private volatile RoutingTable lastValidTable;

  /**
   * @param providerFactory creates the provider, given the callback it must deliver snapshots to
   */
  public ConfigVerticle(Translator translator, Function<SnapshotSink, Provider> providerFactory) {
    this(translator, providerFactory, state -> { }, null);
  }

  /**
   * @param onPublished called on the event loop with every new state (a status writer takes its
   *     report from it); must not block
   * @param meters where to register the control plane's meters (see {@link
   *     ControlPlaneMetrics}); null for none
   */
  public ConfigVerticle(Translator translator, Function<SnapshotSink, Provider> providerFactory,
      Consumer<GatewayState> onPublished, MeterRegistry meters) {
    this.translator = Objects.requireNonNull(translator, "translator");
    this.providerFactory = Objects.requireNonNull(providerFactory, "providerFactory");
    this.onPublished = Objects.requireNonNull(onPublished, "onPublished");
    this.metrics = meters == null ? ControlPlaneMetrics.NONE : new ControlPlaneMetrics(meters);
  }

  /** Returns what was last published; safe from any thread. */
  public GatewayState state() {
    return state;
  }

  /**
   * Returns how many snapshots have been translated so far; snapshots that changed only
   * endpoints are not (see {@link Translator#sameTranslation}). Safe from any thread.
   */
  public long translations() {
    return translations.get();
  }

  /**
   * Returns the problems of the provider's last read. Read live: a broken file that leaves the
   * served objects unchanged produces no new snapshot, but must still be reported.
   */
  public List<ConfigProblem> problems() {
    Provider current = provider;
    return current == null ? List.of() : current.problems();
  }

  @Override
  public Future<?> start() {
    vertx.eventBus().localConsumer(Addresses.CURRENT_STATE, message -> {
      GatewayState current = state;
      message.reply(new ProxyState(current.table(), current.endpoints()));
    });
    provider = providerFactory.apply(this::onSnapshot);
    return provider.start().compose(v -> firstPublication.future());
  }

  @Override
  public Future<?> stop() {
    return provider == null ? Future.succeededFuture() : provider.stop();
  }

  private void onSnapshot(ResourceSnapshot snapshot, long firstChangeNanos) {
    // Latest wins: a snapshot that a newer one replaces before its turn is never translated.
    // Under churn the provider delivers faster than 10k routes translate, and translating each
    // stale snapshot in turn only delays the newest (the next one's changes include its own).
    // The newest keeps the earliest change time: the change it replaces waited since then.
    if (pending.getAndAccumulate(new Delivery(snapshot, firstChangeNanos), Delivery::replace)
        != null) {
      return; // the task already queued takes the newest
    }
    // Translation is pure CPU work whose cost grows with the configuration: keep it off the
    // event loop; ordered, so snapshots are applied in the order they arrived.
    vertx.executeBlocking(() -> prepare(pending.getAndSet(null)), true)
        .onSuccess(this::publish)
        .onFailure(e -> {
          LOG.error("translation failed (a bug in Portico); still serving version {}",
              state.table().version(), e);
          firstPublication.tryFail(e);
        });
  }

  /**
   * Builds the endpoints of {@code snapshot}, and translates it unless it differs from the last
   * translated one only in endpoints (the fast path: a pod that starts or stops reaches the
   * proxies without re-running route translation, whatever the number of routes). Runs in the
   * ordered blocking tasks, one at a time. Everything that grows with the number of routes
   * (validating the table, comparing it with the last one, listing status problems) is done
   * here too, not on the event loop publish() runs on, which proxies share.
   */
  private Result prepare(Delivery delivery) {
    ResourceSnapshot snapshot = delivery.snapshot();
    long startNanos = System.nanoTime();
    EndpointsIndex endpoints = EndpointsBuilder.build(snapshot);
    Translated last = lastTranslated;
    if (last != null && Translator.sameTranslation(last.snapshot(), snapshot)) {
      // Keep the newest snapshot, so the one compared next time (and the memory held) is current.
      lastTranslated = new Translated(snapshot, last.translation());
      return new Result(delivery, last.translation(), endpoints, null, null, 0);
    }
    Translation translation = translator.translate(snapshot);
    translations.incrementAndGet();
    lastTranslated = new Translated(snapshot, translation);
    RoutingTable table = translation.table();
    List<String> invalid = table.validate();
    RoutingTable newTable = null;
    if (!invalid.isEmpty()) {
      LOG.error("translator produced an invalid table (a bug in Portico), keeping version {}: {}",
          state.table().version(), invalid);
    } else if (lastValidTable == null || !table.equals(lastValidTable)) {
      newTable = table;
      lastValidTable = table;
    }
    return new Result(delivery, translation, endpoints, newTable,
        Set.copyOf(StatusLog.problems(translation.status())), System.nanoTime() - startNanos);
  }

  /**
   * A snapshot as the provider delivered it.
   *
   * @param firstChangeNanos when the provider saw the first change it holds, or {@link
   *     SnapshotSink#UNTIMED}
   */
  private record Delivery(ResourceSnapshot snapshot, long firstChangeNanos) {

    /**
     * Returns {@code newer}, replacing {@code older} (null when none was waiting), with the
     * earlier change time.
     */
    static Delivery replace(Delivery older, Delivery newer) {
      if (older == null) {
        return newer;
      }
      long first = older.firstChangeNanos();
      long next = newer.firstChangeNanos();
      if (first == SnapshotSink.UNTIMED || next == SnapshotSink.UNTIMED) {
        return new Delivery(newer.snapshot(), SnapshotSink.UNTIMED);
      }
      return new Delivery(newer.snapshot(), first - next < 0 ? first : next);
    }
  }

  /** The last snapshot whose translation is current, and that translation. */
  private record Translated(ResourceSnapshot snapshot, Translation translation) {
  }

  /**
   * @param newTable the table to publish, or null when the table stays (the translation was
   *     skipped, found the same table, or found an invalid one)
   * @param statusProblems what the status says is wrong, to log; null when the translation is
   *     the previous one, reused (only endpoints changed): the status cannot have changed
   * @param translationNanos how long translating and checking the table took (0 when reused)
   */
  private record Result(Delivery delivery, Translation translation,
      EndpointsIndex endpoints, RoutingTable newTable, Set<String> statusProblems,
      long translationNanos) {

    ResourceSnapshot snapshot() {
      return delivery.snapshot();
    }

    boolean translated() {
      return statusProblems != null;
    }
  }

  private void publish(Result result) {
    GatewayState current = state;
    Versioned<RoutingTable> table = current.table();
    Versioned<EndpointsIndex> endpoints = current.endpoints();
    if (result.newTable() != null) {
      table = new Versioned<>(table.version() + 1, result.newTable());
    }
    if (endpoints.version() == 0 || !result.endpoints().equals(endpoints.value())) {
      endpoints = new Versioned<>(endpoints.version() + 1, result.endpoints());
    }
    state = new GatewayState(table, endpoints, result.translation().status(), result.snapshot());
    // Endpoints first: a new table may refer to backends only the new endpoints know.
    if (endpoints != current.endpoints()) {
      vertx.eventBus().publish(Addresses.ENDPOINTS, endpoints);
    }
    if (table != current.table()) {
      vertx.eventBus().publish(Addresses.ROUTING_TABLE, table);
      // How long the translation took, so that an operator sees what a change costs at their
      // scale (and where the time of a slow start goes) without a profiler.
      LOG.info("routing table version {}: {} listener port(s), translated in {} ms",
          table.version(), table.value().httpPorts().size() + table.value().streamPorts().size(),
          result.translationNanos() / 1_000_000);
    }
    if (result.translated()) {
      metrics.translated(result.translationNanos());
    }
    long changeNanos = result.delivery().firstChangeNanos();
    if (changeNanos != SnapshotSink.UNTIMED
        && (table != current.table() || endpoints != current.endpoints())) {
      metrics.propagated(result.translated(), System.nanoTime() - changeNanos);
    }
    if (result.translated()) {
      // The status is the last one's on the fast path: nothing to log or write again.
      logStatusProblems(result.statusProblems());
      onPublished.accept(state);
    }
    firstPublication.tryComplete();
  }

  private void logStatusProblems(Set<String> problems) {
    for (String problem : problems) {
      if (!loggedProblems.contains(problem)) {
        LOG.warn("{}", problem);
      }
    }
    loggedProblems = problems;
  }
}
