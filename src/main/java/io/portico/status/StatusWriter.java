package io.portico.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicy;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerEntryStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRouteStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.portico.provider.KubernetesProvider;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Writes the translator's {@link StatusReport} to the status subresources of the API server,
 * while this process holds the leader Lease (every replica serves traffic; one writes status).
 *
 * <p>For each object it reads the live object, merges (conditions keep their
 * {@code lastTransitionTime} while their status does not change; route parents and policy
 * ancestors owned by other controllers are kept), and writes only if the result differs from
 * what is on the object. A conflict re-reads and retries. All I/O runs on one thread of its own:
 * {@link #offer} only stores the report and schedules a write, so it never blocks its caller
 * (the configuration verticle's event loop). Reports offered while a round is being written are
 * coalesced into the latest, and the round stops at once: each object is written once, with its
 * newest status. Writes are rate-limited ({@link #WRITES_PER_SECOND}); an object whose wanted
 * status and cached copy did not change since a round found nothing to write is skipped.
 * Entries of ours are removed from objects that are no longer ours (see {@link #clearStale} and
 * {@link #clearGateways} for the rules).
 *
 * <p>A round follows the report's changes: it looks at the routes and policies whose status
 * changed since the last round's report (see {@link ChangedStatuses}), those a round could not
 * finish, and every Gateway, GatewayClass and ListenerSet (few, and rebuilt by each
 * translation). Every object is looked at by the first round, the first after this replica
 * becomes leader, and the one after a round that was cut short or failed while looking at every
 * object.
 */
public final class StatusWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);

  private static final int MAX_ATTEMPTS = 5;

  /**
   * Status writes per second toward the API server, on average, and at once after a quiet time:
   * one writer thread with one request in flight, kept well inside the API server's default
   * 200 mutating requests in flight; the first round of 5,000 routes takes 10 s.
   */
  static final int WRITES_PER_SECOND = 500;
  static final int WRITE_BURST = 500;

  /** The gateway.envoyproxy.io/v1alpha1 policy kind's context (plural: lower case + "ies"). */
  private static ResourceDefinitionContext envoyPolicy(String kind) {
    String lower = kind.toLowerCase(java.util.Locale.ROOT);
    return new ResourceDefinitionContext.Builder()
        .withGroup(ResourceSnapshot.ENVOY_GATEWAY_GROUP)
        .withVersion("v1alpha1")
        .withKind(kind)
        .withPlural(lower.substring(0, lower.length() - 1) + "ies")
        .withNamespaced(true)
        .build();
  }

  /**
   * Where the leader Lease lives and how it is held.
   *
   * @param namespace the Lease's namespace
   * @param name the Lease's name
   * @param identity this replica's name in the Lease (unique per replica)
   * @param leaseDuration how long a leader that stopped renewing keeps the Lease
   * @param renewDeadline how long the leader keeps retrying to renew before it gives up
   * @param retryPeriod how often candidates try to take the Lease and the leader renews it
   */
  public record LeaseOptions(String namespace, String name, String identity,
      Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {

    public LeaseOptions {
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(leaseDuration, "leaseDuration");
      Objects.requireNonNull(renewDeadline, "renewDeadline");
      Objects.requireNonNull(retryPeriod, "retryPeriod");
    }

    /** Kubernetes' usual timings (15 s lease, 10 s renew deadline, 2 s retry). */
    public static LeaseOptions of(String namespace, String name, String identity) {
      return new LeaseOptions(namespace, name, identity, Duration.ofSeconds(15),
          Duration.ofSeconds(10), Duration.ofSeconds(2));
    }

    public LeaseOptions withTimings(Duration leaseDuration, Duration renewDeadline,
        Duration retryPeriod) {
      return new LeaseOptions(namespace, name, identity, leaseDuration, renewDeadline,
          retryPeriod);
    }
  }

  private final KubernetesClient client;
  private final String controllerName;
  private final LeaseOptions lease;
  private final KubernetesSerialization serialization;
  private final ExecutorService executor;
  private final AtomicBoolean scheduled = new AtomicBoolean();
  /** Whether the writer thread is in a round (see {@link #busy}). */
  private volatile boolean writing;
  private final AtomicLong writes = new AtomicLong();
  /** Rounds finished, and objects merged against a copy (those settled are not). */
  private final AtomicLong rounds = new AtomicLong();
  private final AtomicLong merges = new AtomicLong();
  /** Objects whose status a round looked at (settled or not). */
  private final AtomicLong examined = new AtomicLong();
  /** The kinds every round looks at, whatever changed. */
  private static final java.util.Set<String> GATEWAY_KINDS =
      java.util.Set.of("GatewayClass", "Gateway", "ListenerSet");
  private static final java.util.Set<String> STREAM_ROUTE_KINDS =
      java.util.Set.of("TLSRoute", "TCPRoute", "UDPRoute", "GRPCRoute");
  /** Whether the next round looks at every object; see the class comment for when. */
  private volatile boolean everyObjectNext = true;
  /** The report the last round took, which the next one follows the changes of; writer only. */
  private StatusReport previous;
  /**
   * Routes and policies whose status a round did not finish writing (cut short by a newer
   * report, or failed): the next round looks at them again. Writer thread only.
   */
  private final java.util.Set<ObjectKey> unfinished = new java.util.HashSet<>();
  /**
   * What this replica last wrote (or found already written) on each Gateway / GatewayClass of
   * the report, to recognise its own status once the object is no longer ours. Writer thread
   * only.
   */
  private final Map<ObjectKey, GatewayStatus> ownGateways = new HashMap<>();
  private final Map<ObjectKey, GatewayClassStatus> ownClasses = new HashMap<>();
  /** The ListenerSet status this replica last wrote, as for Gateways. */
  private final Map<ObjectKey, ListenerSetStatus> ownListenerSets = new HashMap<>();
  private volatile Pending latest;
  /** The report of the round being written; writer thread only. */
  private Pending round;
  private final WriteRateLimiter rateLimiter = new WriteRateLimiter(WRITES_PER_SECOND,
      WRITE_BURST);
  private volatile boolean leader;
  private volatile boolean closed;
  private volatile CompletableFuture<?> election;
  /**
   * The resourceVersion each of our last writes gave an object, until it comes back from the
   * informers: an echo of our own write needs no second look (see {@link #statusChanged}).
   */
  private final Map<ObjectKey, String> written = new java.util.concurrent.ConcurrentHashMap<>();
  /** Objects whose status someone else changed: the next round looks at them again. */
  private final java.util.Set<ObjectKey> changedElsewhere =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Where rounds find current copies; null: in the offered snapshot. */
  private volatile Function<ObjectKey, HasMetadata> currentCopies;

  public StatusWriter(KubernetesClient client, String controllerName, LeaseOptions lease) {
    this.client = Objects.requireNonNull(client, "client");
    this.controllerName = Objects.requireNonNull(controllerName, "controllerName");
    this.lease = Objects.requireNonNull(lease, "lease");
    this.serialization = client.getKubernetesSerialization();
    this.executor = Executors.newSingleThreadExecutor(r -> {
      Thread thread = new Thread(r, "portico-status-writer");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Makes rounds read the status and resourceVersion on the API server from {@code current}
   * (the informers' copies by key; see {@link io.portico.provider.KubernetesProvider#current})
   * instead of the offered snapshot's copies. Call before {@link #start()}.
   */
  public void readCopiesFrom(Function<ObjectKey, HasMetadata> current) {
    this.currentCopies = Objects.requireNonNull(current, "current");
  }

  /**
   * Tells the writer that an object's status changed on the API server, in an update that
   * changed nothing else (the Kubernetes provider does not make a snapshot of those): unless it
   * is the echo of this writer's own last write, a round looks at the object again, so a status
   * another controller or a user overwrote is written back. Never blocks; any thread.
   */
  public void statusChanged(ObjectKey key, String resourceVersion) {
    Objects.requireNonNull(key, "key");
    if (resourceVersion != null && written.remove(key, resourceVersion)) {
      return;
    }
    changedElsewhere.add(key);
    schedule();
  }

  /** Starts taking part in leader election; returns at once. */
  public void start() {
    elect();
  }

  /**
   * Runs one election. fabric8's elector ends once this replica stops leading (a renewal that
   * failed or timed out, as when the API server is slow to answer): it then takes part again,
   * or a replica that lost the Lease once would never write status again until restarted
   * (bench/scale.py --provider kubernetes: a renewal timed out, and 6k routes kept no status).
   */
  private void elect() {
    if (closed) {
      return;
    }
    CompletableFuture<?> running = client.leaderElector()
        .withConfig(new LeaderElectionConfigBuilder()
            .withName(lease.name())
            .withLock(new LeaseLock(lease.namespace(), lease.name(), lease.identity()))
            .withLeaseDuration(lease.leaseDuration())
            .withRenewDeadline(lease.renewDeadline())
            .withRetryPeriod(lease.retryPeriod())
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(new LeaderCallbacks(this::startedLeading, this::stoppedLeading,
                holder -> LOG.info("status writer: the leader is {}", holder)))
            .build())
        .build()
        .start();
    election = running;
    running.whenComplete((done, failure) -> {
      if (!closed) {
        LOG.info("{} takes part in the status Lease election again", lease.identity());
        elect();
      }
    });
  }

  private void startedLeading() {
    LOG.info("{} leads (Lease {}/{}): writing status", lease.identity(), lease.namespace(),
        lease.name());
    leader = true;
    // Another replica may have written while this one did not lead: look at everything.
    everyObjectNext = true;
    schedule();
  }

  private void stoppedLeading() {
    LOG.info("{} no longer leads: not writing status", lease.identity());
    leader = false;
  }

  /** Returns whether this replica holds the Lease. */
  public boolean isLeader() {
    return leader;
  }

  /** Returns how many rounds (one per report taken) have finished. */
  public long rounds() {
    return rounds.get();
  }

  /** Returns how many objects have been merged with a wanted status (settled ones are not). */
  public long merges() {
    return merges.get();
  }

  /**
   * Returns how many times a round looked at an object's status (whether it then merged it or
   * found it settled): what shows that a round follows the report's changes.
   */
  public long examined() {
    return examined.get();
  }

  /** Returns how many status writes this replica has made. */
  public long writes() {
    return writes.get();
  }

  /**
   * Takes the newest report and the snapshot it was computed from (whose objects show what is on
   * the API server, so entries of ours on objects the report no longer covers can be removed);
   * written soon if this replica leads. Never blocks.
   */
  public void offer(StatusReport report, ResourceSnapshot snapshot) {
    latest = new Pending(Objects.requireNonNull(report, "report"),
        Objects.requireNonNull(snapshot, "snapshot"));
    schedule();
  }

  private record Pending(StatusReport report, ResourceSnapshot snapshot) {}

  /**
   * The snapshot's copies (the informers' caches) of the objects whose status is written, for
   * the current round; written on the writer thread only.
   */
  private CachedCopies copies;

  /**
   * Per object, the informer's copy and the wanted status of a round that found nothing to
   * write; written on the writer thread only. An informer replaces its copy on every change, so
   * the same copy and an equal wanted status settle the object again.
   */
  private final Map<ObjectKey, Settled> settled = new HashMap<>();

  private record Settled(HasMetadata copy, Object wanted) {}

  /** What a write that removes our entries (see {@link #clearGateways}) wants. */
  private record Clear(Object ours) {}

  private void schedule() {
    if (leader && !closed && latest != null && scheduled.compareAndSet(false, true)) {
      executor.execute(() -> {
        writing = true;
        scheduled.set(false);
        try {
          writeLatest();
        } finally {
          writing = false;
        }
      });
    }
  }

  /** One round, for the newest report; writer thread. */
  private void writeLatest() {
    Pending pending = latest;
    round = pending;
    if (leader && !closed) {
      copies = new CachedCopies(pending.snapshot(), currentCopies);
      if (everyObjectNext || previous == null) {
        writeEveryObject(pending);
      } else {
        writeChanges(pending);
      }
      previous = pending.report();
      rounds.incrementAndGet();
    }
  }

  /**
   * Whether a round is queued or being written: false once every report offered so far has
   * been written (or found written), so a tool can wait for status to settle.
   */
  public boolean busy() {
    return scheduled.get() || writing;
  }

  /**
   * Registers {@code portico_status_writes_total} (status subresource writes this replica made),
   * {@code portico_status_rounds_total} and {@code portico_status_writer_busy} (1 while writes
   * are queued or being made: a backlog toward the API server shows as a long run of 1s).
   */
  public void registerMetrics(MeterRegistry registry) {
    FunctionCounter.builder("portico.status.writes", writes, AtomicLong::get)
        .description("Status subresource writes made by this replica").register(registry);
    FunctionCounter.builder("portico.status.rounds", rounds, AtomicLong::get)
        .description("Rounds of status writes finished (one per published change, coalesced)")
        .register(registry);
    Gauge.builder("portico.status.writer.busy", this, writer -> writer.busy() ? 1 : 0)
        .description("1 while status writes are queued or being made, 0 once all are written")
        .register(registry);
  }

  /**
   * A round that looks at every object of the report and of the snapshot. When it cannot finish
   * (cut short by a newer report, or a write failed), the next round looks at everything again.
   */
  private void writeEveryObject(Pending pending) {
    unfinished.clear();
    changedElsewhere.clear();
    // Forgetting the objects that are gone is for memory only (a key that comes back is a new
    // copy, never settled); rounds that follow changes forget the routes they see go.
    settled.keySet().removeIf(key -> copies.get(key) == null);
    // Likewise an object deleted before the echo of our last write to it came back.
    written.keySet().removeIf(key -> copies.get(key) == null);
    writeGatewaysAndClasses(pending.report());
    writeRoutesAndPolicies(pending.report());
    clearStale(pending.report(), pending.snapshot());
    everyObjectNext = !unfinished.isEmpty();
    unfinished.clear();
  }

  /**
   * A round that looks at the Gateways, GatewayClasses and ListenerSets, the routes and policies
   * whose status changed since the last round's report, and those left unfinished.
   */
  private void writeChanges(Pending pending) {
    // What a round left unfinished, with its status now; then what the report changed (the
    // newer status wins).
    Map<ObjectKey, Object> changed = new java.util.LinkedHashMap<>();
    for (java.util.Iterator<ObjectKey> keys = changedElsewhere.iterator(); keys.hasNext(); ) {
      unfinished.add(keys.next());
      keys.remove();
    }
    for (ObjectKey key : unfinished) {
      if (!GATEWAY_KINDS.contains(key.kind())) { // those are written again below in any case
        changed.put(key, ChangedStatuses.statusOf(pending.report(), key));
      }
    }
    unfinished.clear();
    ChangedStatuses.between(previous, pending.report(), changed);
    writeGatewaysAndClasses(pending.report());
    clearGateways(pending.report(), pending.snapshot());
    clearListenerSets(pending.report(), pending.snapshot());
    for (Map.Entry<ObjectKey, Object> entry : changed.entrySet()) {
      ObjectKey key = entry.getKey();
      Object status = entry.getValue();
      if (status != null) {
        writeStatus(key, status);
        continue;
      }
      HasMetadata copy = copies.get(key);
      if (copy == null) {
        settled.remove(key); // gone
      } else {
        clearIfOurs(copy);
      }
    }
  }

  /** Writes the status of a route or policy, given as the report has it. */
  private void writeStatus(ObjectKey key, Object status) {
    if (status instanceof HTTPRouteStatus route) {
      writeRoute(key, route);
    } else if (status instanceof GRPCRouteStatus grpc) {
      writeStreamRoute(key, grpc.getParents());
    } else if (status instanceof TLSRouteStatus tls) {
      writeStreamRoute(key, tls.getParents());
    } else if (status instanceof TCPRouteStatus tcp) {
      writeStreamRoute(key, tcp.getParents());
    } else if (status instanceof UDPRouteStatus udp) {
      writeStreamRoute(key, udp.getParents());
    } else if (key.kind().equals("BackendTLSPolicy")) {
      writeTlsPolicy(key, (PolicyStatus) status);
    } else {
      writeTrafficPolicy(key, (PolicyStatus) status);
    }
  }

  private void writeRoutesAndPolicies(StatusReport report) {
    report.httpRoutes().forEach(this::writeStatus);
    report.tlsRoutes().forEach(this::writeStatus);
    report.tcpRoutes().forEach(this::writeStatus);
    report.udpRoutes().forEach(this::writeStatus);
    report.grpcRoutes().forEach(this::writeStatus);
    report.backendTLSPolicies().forEach(this::writeStatus);
    report.backendTrafficPolicies().forEach(this::writeStatus);
    report.unimplementedPolicies().forEach(this::writeStatus);
  }

  /** Writes the status of the GatewayClasses, Gateways and ListenerSets; writer thread. */
  private void writeGatewaysAndClasses(StatusReport report) {
    report.gatewayClasses().forEach((key, status) -> write(key, status,
        () -> client.resources(GatewayClass.class).withName(key.name()),
        live -> {
          GatewayClassStatus desired = serialization.clone(status);
          GatewayClassStatus current = live.getStatus();
          stamp(desired.getConditions(), current == null ? null : current.getConditions());
          ownClasses.put(key, serialization.clone(desired));
          if (desired.equals(current)) {
            return false;
          }
          live.setStatus(desired);
          return true;
        }));
    report.gateways().forEach((key, status) -> write(key, status,
        () -> client.resources(Gateway.class).inNamespace(key.namespace()).withName(key.name()),
        live -> {
          GatewayStatus desired = serialization.clone(status);
          GatewayStatus current = live.getStatus();
          stamp(desired.getConditions(), current == null ? null : current.getConditions());
          stampListeners(desired.getListeners(), current == null ? null : current.getListeners(),
              ListenerStatus::getName, ListenerStatus::getConditions);
          ownGateways.put(key, serialization.clone(desired));
          if (desired.equals(current)) {
            return false;
          }
          live.setStatus(desired);
          return true;
        }));
    // A ListenerSet's status is all ours (its parent Gateway is), written whole as a Gateway's.
    report.listenerSets().forEach((key, status) -> write(key, status,
        () -> client.resources(ListenerSet.class).inNamespace(key.namespace())
            .withName(key.name()),
        live -> {
          ListenerSetStatus desired = serialization.clone(status);
          ListenerSetStatus current = live.getStatus();
          stamp(desired.getConditions(), current == null ? null : current.getConditions());
          stampListeners(desired.getListeners(), current == null ? null : current.getListeners(),
              ListenerEntryStatus::getName, ListenerEntryStatus::getConditions);
          ownListenerSets.put(key, serialization.clone(desired));
          if (desired.equals(current)) {
            return false;
          }
          live.setStatus(desired);
          return true;
        }));
  }

  /**
   * Removes our entries from routes and policies the report no longer covers (their Gateway was
   * deleted or is no longer ours, the route moved elsewhere): otherwise they would say forever
   * that Portico accepted them.
   */
  private void clearStale(StatusReport report, ResourceSnapshot snapshot) {
    clearGateways(report, snapshot);
    clearListenerSets(report, snapshot);
    // Looked up in a hash set, not the report's sorted map: 10k lookups there, each comparing
    // keys field by field a dozen times, were most of a round's cost at 10k routes when one
    // route changed (async-profiler, bench/scale.py --provider kubernetes).
    clearUnreported(snapshot.httpRoutes(), report.httpRoutes().keySet());
    clearUnreported(snapshot.tlsRoutes(), report.tlsRoutes().keySet());
    clearUnreported(snapshot.tcpRoutes(), report.tcpRoutes().keySet());
    clearUnreported(snapshot.udpRoutes(), report.udpRoutes().keySet());
    clearUnreported(snapshot.grpcRoutes(), report.grpcRoutes().keySet());
    clearUnreported(snapshot.backendTLSPolicies(), report.backendTLSPolicies().keySet());
    java.util.Set<ObjectKey> envoyPolicies = new java.util.HashSet<>(
        report.backendTrafficPolicies().keySet());
    envoyPolicies.addAll(report.unimplementedPolicies().keySet());
    clearUnreported(snapshot.backendTrafficPolicies(), envoyPolicies);
    clearUnreported(snapshot.unimplementedPolicies(), envoyPolicies);
  }

  private void clearUnreported(List<? extends HasMetadata> objects,
      java.util.Set<ObjectKey> reported) {
    java.util.Set<ObjectKey> lookup = new java.util.HashSet<>(reported);
    for (HasMetadata object : objects) {
      ObjectKey key = ObjectKey.of(object);
      if (!lookup.contains(key)) {
        // Its current copy: ours may have been written since the snapshot's.
        HasMetadata current = copies.get(key);
        if (current != null) {
          clearIfOurs(current);
        }
      }
    }
  }

  /**
   * Removes our entries from a route or policy the report does not cover, if it has any (see
   * {@link #clearStale}).
   */
  private void clearIfOurs(HasMetadata object) {
    ObjectKey key = ObjectKey.of(object);
    if (object instanceof HTTPRoute route) {
      if (route.getStatus() != null
          && hasOurs(route.getStatus().getParents(), RouteParentStatus::getControllerName)) {
        writeRoute(key, new HTTPRouteStatus());
      }
    } else if (object instanceof BackendTLSPolicy policy) {
      if (policy.getStatus() != null
          && hasOurs(policy.getStatus().getAncestors(), PolicyAncestorStatus::getControllerName)) {
        writeTlsPolicy(key, new PolicyStatus());
      }
    } else if (object instanceof GenericKubernetesResource policy) {
      Object raw = policy.getAdditionalProperties().get("status");
      if (raw != null
          && hasOurs(serialization.convertValue(raw, PolicyStatus.class).getAncestors(),
              PolicyAncestorStatus::getControllerName)) {
        writeTrafficPolicy(key, new PolicyStatus());
      }
    } else if (hasOurs(streamRouteParents(object), RouteParentStatus::getControllerName)) {
      writeStreamRoute(key, List.of());
    }
  }

  /** The parents entries of a TLSRoute, TCPRoute, UDPRoute or GRPCRoute; null when none. */
  private static List<RouteParentStatus> streamRouteParents(HasMetadata route) {
    if (route instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute tls) {
      return tls.getStatus() == null ? null : tls.getStatus().getParents();
    } else if (route instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute tcp) {
      return tcp.getStatus() == null ? null : tcp.getStatus().getParents();
    } else if (route instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute udp) {
      return udp.getStatus() == null ? null : udp.getStatus().getParents();
    } else if (route instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute grpc) {
      return grpc.getStatus() == null ? null : grpc.getStatus().getParents();
    }
    return null;
  }

  /**
   * Removes our status from Gateways and GatewayClasses that are no longer ours (another
   * controller's class, a deleted class, a changed controllerName): the Gateway API wants the
   * controller that no longer owns an object not to leave its conditions there. Gateway status
   * names no controller, so the rule is: only what this replica wrote while the object was in
   * its report, and only while it is still exactly as written (type, status, reason, message,
   * lastTransitionTime): a condition or listener entry the new owner already wrote is left
   * alone. A replica that never wrote an object's status (started or became leader after the
   * object stopped being ours) does not touch it.
   */
  private void clearGateways(StatusReport report, ResourceSnapshot snapshot) {
    Map<ObjectKey, Gateway> gateways = new HashMap<>();
    snapshot.gateways().forEach(g -> gateways.put(ObjectKey.of(g), g));
    for (ObjectKey key : List.copyOf(ownGateways.keySet())) {
      if (report.gateways().containsKey(key)) {
        continue;
      }
      GatewayStatus ours = ownGateways.remove(key);
      if (!gateways.containsKey(key)) {
        continue; // deleted: nothing to clear
      }
      write(key, new Clear(ours),
          () -> client.resources(Gateway.class).inNamespace(key.namespace()).withName(key.name()),
          live -> {
            GatewayStatus current = live.getStatus();
            if (current == null) {
              return false;
            }
            GatewayStatus desired = serialization.clone(current);
            boolean wasOurs = removeOurs(desired.getConditions(), ours.getConditions());
            removeOurListeners(desired.getListeners(), ours.getListeners(),
                ListenerStatus::getName, ListenerStatus::getConditions);
            if (wasOurs && Objects.equals(desired.getAddresses(), ours.getAddresses())) {
              desired.setAddresses(null);
            }
            if (desired.equals(current)) {
              return false;
            }
            live.setStatus(desired);
            LOG.info("Gateway {} is no longer ours: our status is removed", key);
            return true;
          });
    }
    java.util.Set<ObjectKey> classes = new java.util.HashSet<>();
    snapshot.gatewayClasses().forEach(c -> classes.add(ObjectKey.of(c)));
    for (ObjectKey key : List.copyOf(ownClasses.keySet())) {
      if (report.gatewayClasses().containsKey(key)) {
        continue;
      }
      GatewayClassStatus ours = ownClasses.remove(key);
      if (!classes.contains(key)) {
        continue;
      }
      write(key, new Clear(ours), () -> client.resources(GatewayClass.class).withName(key.name()), live -> {
        GatewayClassStatus current = live.getStatus();
        if (current == null) {
          return false;
        }
        GatewayClassStatus desired = serialization.clone(current);
        if (removeOurs(desired.getConditions(), ours.getConditions())
            && Objects.equals(desired.getSupportedFeatures(), ours.getSupportedFeatures())) {
          desired.setSupportedFeatures(null);
        }
        if (desired.equals(current)) {
          return false;
        }
        live.setStatus(desired);
        LOG.info("GatewayClass {} is no longer ours: our status is removed", key.name());
        return true;
      });
    }
  }

  /**
   * Removes our status from ListenerSets that are no longer ours (their parent is no longer a
   * Portico Gateway), by the Gateway rule: only what this replica wrote, and only while it is
   * still as written.
   */
  private void clearListenerSets(StatusReport report, ResourceSnapshot snapshot) {
    java.util.Set<ObjectKey> present = new java.util.HashSet<>();
    snapshot.listenerSets().forEach(l -> present.add(ObjectKey.of(l)));
    for (ObjectKey key : List.copyOf(ownListenerSets.keySet())) {
      if (report.listenerSets().containsKey(key)) {
        continue;
      }
      ListenerSetStatus ours = ownListenerSets.remove(key);
      if (!present.contains(key)) {
        continue; // deleted: nothing to clear
      }
      write(key, new Clear(ours), () -> client.resources(ListenerSet.class)
          .inNamespace(key.namespace()).withName(key.name()), live -> {
            ListenerSetStatus current = live.getStatus();
            if (current == null) {
              return false;
            }
            ListenerSetStatus desired = serialization.clone(current);
            removeOurs(desired.getConditions(), ours.getConditions());
            removeOurListeners(desired.getListeners(), ours.getListeners(),
                ListenerEntryStatus::getName, ListenerEntryStatus::getConditions);
            if (desired.equals(current)) {
              return false;
            }
            live.setStatus(desired);
            LOG.info("ListenerSet {} is no longer ours: our status is removed", key);
            return true;
          });
    }
  }

  /** Removes the listener entries whose conditions are all still as we wrote them. */
  private static <L> void removeOurListeners(List<L> live, List<L> ours, Function<L, String> name,
      Function<L, List<Condition>> conditions) {
    if (live == null || ours == null) {
      return;
    }
    live.removeIf(l -> ours.stream().anyMatch(o ->
        Objects.equals(name.apply(o), name.apply(l))
            && conditions.apply(l) != null && !conditions.apply(l).isEmpty()
            && conditions.apply(l).stream().allMatch(c -> conditions.apply(o) != null
                && conditions.apply(o).stream().anyMatch(w -> sameCondition(c, w)))));
  }

  /** Removes from {@code live} the conditions still as {@code ours} has them; any removed? */
  private static boolean removeOurs(List<Condition> live, List<Condition> ours) {
    if (live == null || ours == null) {
      return false;
    }
    return live.removeIf(c -> ours.stream().anyMatch(o -> sameCondition(c, o)));
  }

  private static boolean sameCondition(Condition a, Condition b) {
    return Objects.equals(a.getType(), b.getType())
        && Objects.equals(a.getStatus(), b.getStatus())
        && Objects.equals(a.getReason(), b.getReason())
        && Objects.equals(a.getMessage(), b.getMessage())
        && Objects.equals(a.getLastTransitionTime(), b.getLastTransitionTime());
  }

  private <E> boolean hasOurs(List<E> entries, Function<E, String> controller) {
    return entries != null && entries.stream().anyMatch(e -> controllerName.equals(
        controller.apply(e)));
  }

  private void writeRoute(ObjectKey key, HTTPRouteStatus status) {
    write(key, status,
        () -> client.resources(HTTPRoute.class).inNamespace(key.namespace()).withName(key.name()),
        live -> {
          HTTPRouteStatus current = live.getStatus();
          List<RouteParentStatus> merged = mergeOwned(
              current == null ? null : current.getParents(),
              serialization.clone(status).getParents(),
              RouteParentStatus::getControllerName,
              (a, b) -> Objects.equals(a.getParentRef(), b.getParentRef()),
              RouteParentStatus::getConditions);
          HTTPRouteStatus desired = current == null ? new HTTPRouteStatus()
              : serialization.clone(current);
          desired.setParents(merged);
          if (desired.equals(current)) {
            return false;
          }
          live.setStatus(desired);
          return true;
        });
  }

  /**
   * Writes our parents entries of a TLSRoute, TCPRoute, UDPRoute or GRPCRoute at the version the cluster
   * serves (which may be an experimental-channel v1alpha2 only), through the generic client.
   */
  private void writeStreamRoute(ObjectKey key, List<RouteParentStatus> parents) {
    ResourceDefinitionContext definition = streamRouteDefinition(key.kind());
    if (definition == null) {
      return;
    }
    write(key, parents, definition,
        () -> client.genericKubernetesResources(definition).inNamespace(key.namespace())
            .withName(key.name()),
        live -> {
          Object raw = live.getAdditionalProperties().get("status");
          RouteStatus current = raw == null ? null
              : serialization.convertValue(raw, RouteStatus.class);
          List<RouteParentStatus> merged = mergeOwned(
              current == null ? null : current.getParents(),
              serialization.clone(new RouteStatus(parents)).getParents(),
              RouteParentStatus::getControllerName,
              (a, b) -> Objects.equals(a.getParentRef(), b.getParentRef()),
              RouteParentStatus::getConditions);
          RouteStatus desired = new RouteStatus(merged);
          if (desired.equals(current)) {
            return false;
          }
          live.setAdditionalProperty("status", serialization.convertValue(desired, Map.class));
          return true;
        });
  }

  /** The served version of each stream route kind, asked of discovery once; null: not served. */
  private final Map<String, java.util.Optional<ResourceDefinitionContext>> streamRouteDefinitions =
      new java.util.concurrent.ConcurrentHashMap<>();

  private ResourceDefinitionContext streamRouteDefinition(String kind) {
    return streamRouteDefinitions.computeIfAbsent(kind, k -> {
      String plural = k.toLowerCase(java.util.Locale.ROOT) + "s";
      for (String version : KubernetesProvider.STREAM_ROUTE_VERSIONS.getOrDefault(k, List.of())) {
        try {
          var resources = client.getApiResources("gateway.networking.k8s.io/" + version);
          if (resources != null && resources.getResources().stream()
              .anyMatch(r -> plural.equals(r.getName()))) {
            return java.util.Optional.of(new ResourceDefinitionContext.Builder()
                .withGroup("gateway.networking.k8s.io").withVersion(version).withKind(k)
                .withPlural(plural).withNamespaced(true).build());
          }
        } catch (KubernetesClientException e) {
          // Not served at this version: try the next.
        }
      }
      return java.util.Optional.empty();
    }).orElse(null);
  }

  private void writeTlsPolicy(ObjectKey key, PolicyStatus status) {
    write(key, status,
        () -> client.resources(BackendTLSPolicy.class).inNamespace(key.namespace())
            .withName(key.name()),
        live -> {
          PolicyStatus desired = mergePolicy(live.getStatus(), status);
          if (desired.equals(live.getStatus())) {
            return false;
          }
          live.setStatus(desired);
          return true;
        });
  }

  /** Writes the status of a gateway.envoyproxy.io policy (the key names its kind). */
  private void writeTrafficPolicy(ObjectKey key, PolicyStatus status) {
    ResourceDefinitionContext definition = envoyPolicy(key.kind());
    write(key, status, definition,
        () -> client.genericKubernetesResources(definition)
            .inNamespace(key.namespace()).withName(key.name()),
        live -> {
          Object raw = live.getAdditionalProperties().get("status");
          PolicyStatus current = raw == null ? null
              : serialization.convertValue(raw, PolicyStatus.class);
          PolicyStatus desired = mergePolicy(current, status);
          if (desired.equals(current)) {
            return false;
          }
          live.setAdditionalProperty("status", serialization.convertValue(desired, Map.class));
          return true;
        });
  }

  private PolicyStatus mergePolicy(PolicyStatus current, PolicyStatus ours) {
    List<PolicyAncestorStatus> merged = mergeOwned(
        current == null ? null : current.getAncestors(),
        serialization.clone(ours).getAncestors(),
        PolicyAncestorStatus::getControllerName,
        (a, b) -> Objects.equals(a.getAncestorRef(), b.getAncestorRef()),
        PolicyAncestorStatus::getConditions);
    PolicyStatus desired = current == null ? new PolicyStatus() : serialization.clone(current);
    desired.setAncestors(merged);
    return desired;
  }

  /**
   * Keeps the entries other controllers own, in their order, and replaces ours with
   * {@code ours} (whose conditions keep the transition times of the matching live entry).
   */
  private <E> List<E> mergeOwned(List<E> live, List<E> ours, Function<E, String> controller,
      BiPredicate<E, E> sameRef, Function<E, List<Condition>> conditions) {
    List<E> merged = new ArrayList<>();
    List<E> oldOurs = new ArrayList<>();
    if (live != null) {
      for (E entry : live) {
        if (controllerName.equals(controller.apply(entry))) {
          oldOurs.add(entry);
        } else {
          merged.add(entry);
        }
      }
    }
    if (ours != null) {
      for (E entry : ours) {
        E old = oldOurs.stream().filter(o -> sameRef.test(o, entry)).findFirst().orElse(null);
        stamp(conditions.apply(entry), old == null ? null : conditions.apply(old));
        merged.add(entry);
      }
    }
    return merged;
  }

  /** Stamps each listener entry's conditions against the live entry of the same name. */
  private static <L> void stampListeners(List<L> desired, List<L> live, Function<L, String> name,
      Function<L, List<Condition>> conditions) {
    if (desired == null) {
      return;
    }
    for (L listener : desired) {
      L old = live == null ? null : live.stream()
          .filter(l -> Objects.equals(name.apply(l), name.apply(listener)))
          .findFirst().orElse(null);
      stamp(conditions.apply(listener), old == null ? null : conditions.apply(old));
    }
  }

  /**
   * Gives every condition a lastTransitionTime: the live one's while its status is unchanged
   * (so an unchanged condition causes no write), now otherwise.
   */
  private static void stamp(List<Condition> conditions, List<Condition> live) {
    if (conditions == null) {
      return;
    }
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    for (Condition condition : conditions) {
      Condition old = live == null ? null : live.stream()
          .filter(c -> Objects.equals(c.getType(), condition.getType()))
          .findFirst().orElse(null);
      condition.setLastTransitionTime(old != null
          && Objects.equals(old.getStatus(), condition.getStatus())
          && old.getLastTransitionTime() != null ? old.getLastTransitionTime() : now);
    }
  }

  /**
   * Reads, merges and writes one object's status; retries on conflict.
   *
   * @param wanted what the report wants of the object (compared with the last round's)
   */
  private <T extends HasMetadata> void write(ObjectKey key, Object wanted,
      Supplier<Resource<T>> target, Predicate<T> merge) {
    write(key, wanted, null, target, merge);
  }

  /** @param generic the kind's definition, when {@code T} is GenericKubernetesResource */
  private <T extends HasMetadata> void write(ObjectKey key, Object wanted,
      ResourceDefinitionContext generic, Supplier<Resource<T>> target, Predicate<T> merge) {
    examined.incrementAndGet();
    if (round != latest) {
      // A newer report is waiting, with its round right behind this one: the objects left of
      // this round are written once, with their newest status (coalesced per object).
      unfinished.add(key);
      return;
    }
    // Stream routes are written through the generic client at the version the cluster serves,
    // which the snapshot's typed copy is not: those are read live.
    HasMetadata cachedCopy = STREAM_ROUTE_KINDS.contains(key.kind())
        ? null : copies.get(key);
    Settled last = settled.get(key);
    if (cachedCopy != null && last != null && last.copy() == cachedCopy
        && last.wanted().equals(wanted)) {
      // Neither the report nor the object changed since this found nothing to write: with
      // thousands of routes a round is then an equals per object, not a merge of copies.
      return;
    }
    settled.remove(key);
    for (int attempt = 1; leader && !closed; attempt++) {
      try {
        // First against the informer's copy: in the steady state nothing changes and no
        // request is made. A stale copy fails the update with 409, and the retry reads live.
        @SuppressWarnings("unchecked")
        T copy = attempt == 1 ? (T) cachedCopy : null;
        T live = copy != null ? serialization.clone(copy) : target.get().get();
        if (live == null) {
          return;
        }
        merges.incrementAndGet();
        if (!merge.test(live)) {
          if (copy != null) {
            settled.put(key, new Settled(copy, wanted));
          }
          return;
        }
        rateLimiter.acquire();
        HasMetadata updated;
        if (live instanceof GenericKubernetesResource genericObject) {
          updated = client.genericKubernetesResources(generic).inNamespace(key.namespace())
              .resource(genericObject).updateStatus();
        } else {
          updated = client.resource(live).updateStatus();
        }
        if (updated != null && updated.getMetadata() != null
            && updated.getMetadata().getResourceVersion() != null) {
          written.put(key, updated.getMetadata().getResourceVersion());
        }
        writes.incrementAndGet();
        LOG.debug("wrote the status of {}", key);
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() == 409 && attempt < MAX_ATTEMPTS) {
          continue;
        }
        LOG.warn("could not write the status of {}: {}", key, e.getMessage());
        unfinished.add(key);
        return;
      } catch (RuntimeException e) {
        LOG.warn("could not write the status of {}", key, e);
        unfinished.add(key);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // Closed while waiting for the rate limit.
        return;
      }
    }
    unfinished.add(key); // no longer the leader: the next leader looks at everything
  }

  /** Leaves the election (releasing the Lease if held) and stops writing. */
  @Override
  public void close() {
    closed = true;
    CompletableFuture<?> running = election;
    if (running != null) {
      running.cancel(true);
    }
    leader = false;
    executor.shutdownNow();
  }
}
