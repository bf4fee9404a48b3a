package io.portico.health;

import io.portico.bus.Addresses;
import io.portico.bus.ProxyState;
import io.portico.bus.Versioned;
import io.portico.ir.BackendKey;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.HealthCheck;
import io.portico.ir.RoutingTable;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.util.HashMap;
import java.util.Map;

/**
 * Runs the active health checks and the passive ejection sweep of one Portico process (deploy
 * one instance, next to the ConfigVerticle). It follows the routing table and endpoints the
 * ConfigVerticle publishes, keeps the {@link HealthRegistry}'s plan up to date, and probes
 * every actively checked endpoint every {@code interval} (the next probe starts an interval
 * after the previous one ended, so probes of one endpoint never overlap). Endpoints that leave
 * are forgotten; new ones start healthy.
 */
public final class HealthCheckVerticle extends VerticleBase {

  private HealthRegistry registry;
  private ActiveProber prober;
  private Versioned<RoutingTable> table;
  private Versioned<EndpointsIndex> endpoints;
  /** The running probe loop of each endpoint, by identity of its health record. */
  private final Map<EndpointHealth, ProbeLoop> loops = new HashMap<>();
  private long sweepTimer = -1;
  private long sweepInterval;

  @Override
  public Future<?> start() {
    registry = HealthRegistry.of(vertx);
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false)
        .setMaxRedirects(0));
    HttpClient h2c = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    NetClient tcp = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true));
    prober = new ActiveProber(http, h2c, tcp);
    vertx.eventBus().<Versioned<RoutingTable>>localConsumer(Addresses.ROUTING_TABLE, message -> {
      if (message.body().newerThan(table)) {
        table = message.body();
        apply();
      }
    });
    vertx.eventBus().<Versioned<EndpointsIndex>>localConsumer(Addresses.ENDPOINTS, message -> {
      if (message.body().newerThan(endpoints)) {
        endpoints = message.body();
        apply();
      }
    });
    return vertx.eventBus().<ProxyState>request(Addresses.CURRENT_STATE, null)
        .onSuccess(reply -> {
          ProxyState state = reply.body();
          if (state.table() != null && state.table().newerThan(table)) {
            table = state.table();
          }
          if (state.endpoints() != null && state.endpoints().newerThan(endpoints)) {
            endpoints = state.endpoints();
          }
          apply();
        });
  }

  /** The table {@link #plan} was made from. */
  private RoutingTable plannedTable;
  private Map<BackendKey, HealthCheck> plan;

  private void apply() {
    RoutingTable currentTable = table == null ? RoutingTable.EMPTY : table.value();
    EndpointsIndex currentEndpoints = endpoints == null ? EndpointsIndex.EMPTY : endpoints.value();
    if (currentTable != plannedTable) {
      // The plan depends on the table only; endpoint churn is far more frequent.
      plan = HealthPlan.of(currentTable);
      plannedTable = currentTable;
    }
    registry.update(plan, currentEndpoints);
    reconcileProbes();
    reconcileSweep();
  }

  /** Starts a probe loop for every new (or re-configured) endpoint and stops the others. */
  private void reconcileProbes() {
    Map<EndpointHealth, HealthCheck.Active> wanted = new HashMap<>();
    for (HealthRegistry.Probe probe : registry.probes()) {
      wanted.put(probe.health(), probe.check());
    }
    loops.entrySet().removeIf(entry -> {
      HealthCheck.Active check = wanted.get(entry.getKey());
      if (check == null || !check.equals(entry.getValue().check)) {
        entry.getValue().stopped = true;
        vertx.cancelTimer(entry.getValue().timer);
        return true;
      }
      return false;
    });
    wanted.forEach((health, check) -> {
      if (!loops.containsKey(health)) {
        ProbeLoop loop = new ProbeLoop(health, check);
        loops.put(health, loop);
        loop.run();
      }
    });
  }

  private void reconcileSweep() {
    long interval = registry.sweepIntervalMillis();
    if (interval == sweepInterval) {
      return;
    }
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
    sweepInterval = interval;
    if (interval > 0) {
      sweepTimer = vertx.setPeriodic(interval, id -> registry.sweep());
    }
  }

  /** Probes one endpoint again and again until stopped. Confined to this verticle's loop. */
  private final class ProbeLoop {
    final EndpointHealth health;
    final HealthCheck.Active check;
    boolean stopped;
    long timer = -1;

    ProbeLoop(EndpointHealth health, HealthCheck.Active check) {
      this.health = health;
      this.check = check;
    }

    void run() {
      if (stopped) {
        return;
      }
      prober.probe(health.endpoint, check).onComplete(ar -> {
        if (stopped) {
          return;
        }
        String detail = ar.succeeded() ? ar.result() : String.valueOf(ar.cause().getMessage());
        registry.probed(health, check, ar.succeeded(), detail);
        timer = vertx.setTimer(check.intervalMillis(), id -> run());
      });
    }
  }
}
