package io.portico.health;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.portico.ir.BackendKey;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.HealthCheck;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;
import io.vertx.micrometer.backends.BackendRegistries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * Holds the health of every checked endpoint of one Portico process, shared by all proxy event
 * loops ({@link #of(Vertx)}).
 *
 * <p>Writers (the {@link HealthCheckVerticle}, and a proxy loop whose report ejects an endpoint)
 * take the lock and publish a new immutable {@link View}; the request path only reads that
 * view's reference: {@link #candidates} returns a list computed when health last changed, and
 * {@link #report} bumps atomics and takes the lock only when an endpoint crosses an ejection
 * limit.
 */
public final class HealthRegistry implements Shareable {

  private static final Logger LOG = LoggerFactory.getLogger(HealthRegistry.class);
  private static final String SHARED_MAP = "portico.health";

  /** What the request path reads; replaced whole whenever health or the plan changes. */
  private record View(Map<BackendKey, Candidates> keys, Map<Endpoint, Passive[]> passive) {
    static final View EMPTY = new View(Map.of(), Map.of());
  }

  /** The candidates of a backend port that has an unhealthy endpoint. */
  private record Candidates(List<Endpoint> source, List<Endpoint> list, boolean panic,
      java.util.Set<Endpoint> unhealthy, int panicThreshold) {
  }

  /** An endpoint whose real traffic counts, with the rules it is counted by. */
  private record Passive(EndpointHealth health, HealthCheck.Passive check) {
  }

  private final LongSupplier nanoClock;
  private volatile View view = View.EMPTY;

  // Guarded by this.
  private Map<BackendKey, HealthCheck> plan = Map.of();
  private EndpointsIndex endpoints = EndpointsIndex.EMPTY;
  private final Map<BackendKey, Map<Endpoint, EndpointHealth>> states = new HashMap<>();
  private int unhealthyEndpoints;

  private final Counter ejections;

  HealthRegistry(LongSupplier nanoClock, MeterRegistry meters) {
    this.nanoClock = nanoClock;
    if (meters == null) {
      ejections = null;
      return;
    }
    ejections = Counter.builder("portico.health.ejections")
        .description("Endpoints ejected by passive health checking (outlier detection)")
        .register(meters);
    Gauge.builder("portico.health.unhealthy.endpoints", this, HealthRegistry::unhealthyCount)
        .description("Endpoints currently unhealthy (active checks) or ejected (passive)")
        .register(meters);
  }

  /** Returns the registry of {@code vertx}'s Portico, creating it on first use. */
  public static HealthRegistry of(Vertx vertx) {
    LocalMap<String, HealthRegistry> map = vertx.sharedData().getLocalMap(SHARED_MAP);
    HealthRegistry registry = map.get("registry");
    if (registry == null) {
      HealthRegistry created = new HealthRegistry(System::nanoTime,
          BackendRegistries.getDefaultNow());
      registry = map.putIfAbsent("registry", created);
      if (registry == null) {
        registry = created;
      }
    }
    return registry;
  }

  // ---- request path ----

  /**
   * Returns the endpoints of {@code key} to choose from: {@code all} when the port is not
   * checked or everything is healthy, its healthy endpoints otherwise, or again {@code all} when
   * fewer than the panic threshold are healthy (panic mode). Allocates nothing unless
   * {@code all} is newer than the registry's copy of the endpoints.
   */
  public List<Endpoint> candidates(BackendKey key, List<Endpoint> all) {
    View current = view;
    if (current.keys.isEmpty()) {
      return all;
    }
    Candidates candidates = current.keys.get(key);
    if (candidates == null) {
      return all;
    }
    if (candidates.source == all) {
      return candidates.list;
    }
    // The proxy already has endpoints the registry has not seen yet: filter on the fly, and
    // keep the result so that round robin (keyed by the list's identity) keeps cycling.
    Filtered last = lastFiltered;
    if (last != null && last.from == candidates && last.source == all) {
      return last.list;
    }
    List<Endpoint> list = filter(all, candidates.unhealthy, candidates.panicThreshold);
    lastFiltered = new Filtered(candidates, all, list);
    return list;
  }

  /** The last list filtered on the request path (a benign race: any loop may replace it). */
  private record Filtered(Candidates from, List<Endpoint> source, List<Endpoint> list) {
  }

  private volatile Filtered lastFiltered;

  /**
   * Counts the outcome of one upstream attempt to {@code endpoint} for every passively checked
   * backend port it belongs to. Cheap when nothing is passively checked (one map lookup).
   */
  public void report(Endpoint endpoint, Outcome outcome) {
    View current = view;
    if (current.passive.isEmpty() || endpoint == null) {
      return;
    }
    Passive[] entries = current.passive.get(endpoint);
    if (entries == null) {
      return;
    }
    for (Passive entry : entries) {
      EndpointHealth health = entry.health;
      if (health.ejected) {
        continue;
      }
      String why = health.count(outcome, entry.check);
      if (why != null) {
        eject(health, entry.check, why);
      }
    }
  }

  // ---- writers ----

  /** Uses a new plan (from the routing table) and endpoints; forgets endpoints that left. */
  synchronized void update(Map<BackendKey, HealthCheck> plan, EndpointsIndex endpoints) {
    this.plan = plan;
    this.endpoints = endpoints;
    long now = System.currentTimeMillis();
    states.keySet().retainAll(plan.keySet());
    for (Map.Entry<BackendKey, HealthCheck> entry : plan.entrySet()) {
      Map<Endpoint, EndpointHealth> known = states.computeIfAbsent(entry.getKey(),
          k -> new HashMap<>());
      List<Endpoint> current = endpoints.get(entry.getKey());
      known.keySet().retainAll(current);
      for (Endpoint endpoint : current) {
        known.computeIfAbsent(endpoint, e -> new EndpointHealth(entry.getKey(), e, now));
      }
      if (entry.getValue().active() == null) {
        // Checks removed: an endpoint marked by them is healthy again.
        known.values().forEach(h -> h.activeHealthy = true);
      }
      if (entry.getValue().passive() == null) {
        known.values().forEach(h -> h.ejected = false);
      }
    }
    publish();
  }

  /** Returns the endpoints with an active check and their checks, for the prober. */
  synchronized List<Probe> probes() {
    List<Probe> probes = new ArrayList<>();
    for (Map.Entry<BackendKey, Map<Endpoint, EndpointHealth>> entry : states.entrySet()) {
      HealthCheck.Active active = plan.get(entry.getKey()).active();
      if (active != null) {
        for (EndpointHealth health : entry.getValue().values()) {
          probes.add(new Probe(health, active));
        }
      }
    }
    return probes;
  }

  /** One endpoint to probe with its check. */
  record Probe(EndpointHealth health, HealthCheck.Active check) {
  }

  /** Records the result of an active probe (on the health check verticle's loop). */
  void probed(EndpointHealth health, HealthCheck.Active check, boolean ok, String detail) {
    if (ok) {
      health.probeFailures = 0;
      if (!health.activeHealthy && ++health.probeSuccesses >= check.healthyThreshold()) {
        setActive(health, true, health.probeSuccesses + " successful probe(s): " + detail);
      }
      return;
    }
    health.probeSuccesses = 0;
    if (health.activeHealthy && ++health.probeFailures >= check.unhealthyThreshold()) {
      setActive(health, false, health.probeFailures + " failed probe(s): " + detail);
    }
  }

  private synchronized void setActive(EndpointHealth health, boolean healthy, String reason) {
    if (!isCurrent(health)) {
      return;
    }
    health.activeHealthy = healthy;
    health.probeFailures = 0;
    health.probeSuccesses = 0;
    changed(health, reason);
    publish();
  }

  private synchronized void eject(EndpointHealth health, HealthCheck.Passive check, String why) {
    if (health.ejected || !isCurrent(health)) {
      return;
    }
    Map<Endpoint, EndpointHealth> siblings = states.get(health.key);
    int ejectedNow = 0;
    for (EndpointHealth sibling : siblings.values()) {
      if (sibling.ejected) {
        ejectedNow++;
      }
    }
    // maxEjectionPercent caps the ejected share of the port; one ejection is always allowed.
    if (ejectedNow > 0 && (ejectedNow + 1) * 100L > (long) siblings.size() * check.maxEjectionPercent()) {
      LOG.debug("not ejecting {} of {} ({}): {} of {} already ejected, maxEjectionPercent {}",
          health.endpoint, health.key, why, ejectedNow, siblings.size(),
          check.maxEjectionPercent());
      health.resetCounters();
      return;
    }
    health.ejections++;
    long millis = check.baseEjectionMillis() * health.ejections;
    health.ejectedUntilNanos = nanoClock.getAsLong() + millis * 1_000_000;
    health.ejected = true;
    health.resetCounters();
    if (ejections != null) {
      ejections.increment();
    }
    changed(health, why + "; ejected for " + millis + " ms (ejection " + health.ejections + ")");
    publish();
  }

  /**
   * Ends the ejections whose time has passed and lowers the ejection multiplier of endpoints
   * that stayed in (Envoy's analysis sweep, every passive {@code interval}).
   */
  synchronized void sweep() {
    long now = nanoClock.getAsLong();
    boolean changed = false;
    for (Map<Endpoint, EndpointHealth> known : states.values()) {
      for (EndpointHealth health : known.values()) {
        if (health.ejected && now - health.ejectedUntilNanos >= 0) {
          health.ejected = false;
          health.resetCounters();
          changed(health, "ejection time over");
          changed = true;
        } else if (!health.ejected && health.ejections > 0) {
          health.ejections--;
        }
      }
    }
    if (changed) {
      publish();
    }
  }

  /** Returns the shortest passive sweep interval of the plan, or 0 when nothing is passive. */
  synchronized long sweepIntervalMillis() {
    long shortest = 0;
    for (HealthCheck check : plan.values()) {
      if (check.passive() != null && (shortest == 0
          || check.passive().intervalMillis() < shortest)) {
        shortest = check.passive().intervalMillis();
      }
    }
    return shortest;
  }

  private boolean isCurrent(EndpointHealth health) {
    Map<Endpoint, EndpointHealth> known = states.get(health.key);
    return known != null && known.get(health.endpoint) == health;
  }

  private void changed(EndpointHealth health, String reason) {
    health.reason = reason;
    health.sinceMillis = System.currentTimeMillis();
    LOG.info("endpoint {} of {} is {}: {}", health.endpoint, health.key, health.state(), reason);
  }

  /** Rebuilds the view the request path reads. */
  private void publish() {
    Map<BackendKey, Candidates> keys = new HashMap<>();
    Map<Endpoint, List<Passive>> passive = new HashMap<>();
    int unhealthyTotal = 0;
    for (Map.Entry<BackendKey, Map<Endpoint, EndpointHealth>> entry : states.entrySet()) {
      HealthCheck check = plan.get(entry.getKey());
      java.util.Set<Endpoint> unhealthy = new java.util.HashSet<>();
      for (EndpointHealth health : entry.getValue().values()) {
        if (!health.healthy()) {
          unhealthy.add(health.endpoint);
        }
        if (check.passive() != null) {
          passive.computeIfAbsent(health.endpoint, e -> new ArrayList<>())
              .add(new Passive(health, check.passive()));
        }
      }
      unhealthyTotal += unhealthy.size();
      if (!unhealthy.isEmpty()) {
        List<Endpoint> all = endpoints.get(entry.getKey());
        List<Endpoint> list = filter(all, unhealthy, check.panicThreshold());
        keys.put(entry.getKey(), new Candidates(all, list, list == all, java.util.Set.copyOf(unhealthy),
            check.panicThreshold()));
      }
    }
    Map<Endpoint, Passive[]> passiveView = new HashMap<>();
    passive.forEach((endpoint, list) -> passiveView.put(endpoint, list.toArray(new Passive[0])));
    unhealthyEndpoints = unhealthyTotal;
    view = new View(Map.copyOf(keys), Map.copyOf(passiveView));
  }

  /** Returns the healthy endpoints of {@code all}, or {@code all} itself in panic. */
  private static List<Endpoint> filter(List<Endpoint> all, java.util.Set<Endpoint> unhealthy,
      int panicThreshold) {
    List<Endpoint> healthy = new ArrayList<>(all.size());
    for (Endpoint endpoint : all) {
      if (!unhealthy.contains(endpoint)) {
        healthy.add(endpoint);
      }
    }
    // Panic: fewer than panicThreshold percent healthy, so health is disregarded.
    if (healthy.size() * 100L < (long) all.size() * panicThreshold) {
      return all;
    }
    return healthy.size() == all.size() ? all : List.copyOf(healthy);
  }

  private synchronized double unhealthyCount() {
    return unhealthyEndpoints;
  }

  /**
   * Describes every checked endpoint for the admin API: per backend port its panic state, and
   * per endpoint its state (Healthy, Unhealthy, Ejected), the reason and since when.
   */
  public synchronized Map<String, Object> describe() {
    Map<String, Object> ports = new TreeMap<>();
    View current = view;
    for (Map.Entry<BackendKey, Map<Endpoint, EndpointHealth>> entry : states.entrySet()) {
      Map<String, Object> port = new LinkedHashMap<>();
      Candidates candidates = current.keys.get(entry.getKey());
      port.put("panic", candidates != null && candidates.panic);
      List<Map<String, Object>> list = new ArrayList<>();
      for (Endpoint endpoint : endpoints.get(entry.getKey())) {
        EndpointHealth health = entry.getValue().get(endpoint);
        if (health == null) {
          continue;
        }
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("endpoint", endpoint.toString());
        item.put("state", health.state());
        item.put("reason", health.reason);
        item.put("since", Instant.ofEpochMilli(health.sinceMillis).toString());
        if (health.ejections > 0) {
          item.put("ejections", health.ejections);
        }
        list.add(item);
      }
      port.put("endpoints", list);
      ports.put(entry.getKey().toString(), port);
    }
    return ports;
  }
}
