package io.portico.proxy;

import io.portico.ir.BackendResilience.CircuitBreaker;
import io.portico.ir.Endpoint;
import io.portico.proxy.upstream.UpstreamCall;
import io.portico.proxy.upstream.UpstreamConnection;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Enforces a BackendTrafficPolicy's {@code circuitBreaker.maxConnections}, the connections of a
 * rule to all its endpoints together (Envoy's cluster {@code max_connections}), for one proxy
 * verticle. Confined to the verticle's event loop; the rule's count itself is the process-wide
 * atomic of {@link CircuitBreakers.Counters}, shared by every verticle.
 *
 * <p>Vert.x pools connections per client and endpoint and opens a new one whenever a request
 * finds none free and the endpoint's pool is below its size; it has no hook to refuse that. So
 * the decision is taken before the request reaches the pool: every rule with a circuit breaker
 * has upstream clients of its own (see {@link UpstreamClients}), this class learns their
 * connections from the requests that use them ({@code UpstreamCall.connection()}, and the
 * connection's close handler), and counts the requests in use per endpoint. A request
 * <ul>
 *   <li>goes ahead when one of its endpoint's connections on this loop is free (HTTP/1.1: one
 *       request per connection; h2c: up to {@code http2.maxConcurrentStreams}, else any open
 *       connection is taken as free);
 *   <li>else reserves one of the rule's {@code maxConnections} and goes ahead (the pool opens a
 *       connection; if it hands over one that was freed meanwhile, the reservation is returned);
 *   <li>else, when this loop has no connection to that endpoint, open or being opened, goes
 *       ahead anyway, past the limit: Envoy too ensures every host chosen by load balancing at
 *       least one connection per connection pool, and its pools are per worker as Portico's
 *       clients are per event loop. The rule's connections are so bounded by
 *       {@code maxConnections + endpoints x event loops} (Envoy: "+ endpoints x connection
 *       pools"), and by {@code maxConnections} on one event loop;
 *   <li>else waits, in arrival order, until one of its endpoint's connections on this loop is
 *       free (or closes): a pending request, counted against {@code maxPendingRequests} by the
 *       caller, which answers 503 overflow past that.
 * </ul>
 * A connection the pool opened without a reservation (h2c opening a second connection when the
 * server's stream limit is lower, or one opened under the rule above) is still counted, so the
 * count stays exact and frees the limit only when connections close. A waiting request is
 * served on its own event loop: a connection freed on another loop does not wake it (Envoy's
 * pending requests, per worker, behave alike).
 */
final class RuleConnections {

  /** Streams assumed per h2c connection when the policy sets no maxConcurrentStreams. */
  private static final int UNBOUNDED_STREAMS = Integer.MAX_VALUE / 4;

  private final Vertx vertx;
  private final Map<String, Rule> rules = new HashMap<>();

  RuleConnections(Vertx vertx) {
    this.vertx = vertx;
  }

  /**
   * Starts one attempt of a request of {@code rule} to {@code endpoint}.
   *
   * @param streamsPerConnection requests one connection carries at once: 1 for HTTP/1.1, the
   *     h2c stream limit (0 for unknown)
   */
  Ticket ticket(String rule, CircuitBreakers.Counters counters, CircuitBreaker limits,
      Endpoint endpoint, int streamsPerConnection) {
    Rule state = rules.computeIfAbsent(rule, name -> new Rule());
    EndpointConnections connections = state.endpoints.computeIfAbsent(endpoint,
        e -> new EndpointConnections());
    return new Ticket(state, connections, counters, limits,
        streamsPerConnection <= 0 ? UNBOUNDED_STREAMS : streamsPerConnection);
  }

  /**
   * Forgets rules not in {@code current} with no connection and nothing in use or waiting, and
   * the unused endpoints of the others (endpoints come and go without a table change; their
   * entries are dropped at the next one).
   */
  void retain(Set<String> current) {
    rules.entrySet().removeIf(entry -> {
      entry.getValue().endpoints.values().removeIf(EndpointConnections::unused);
      return !current.contains(entry.getKey()) && entry.getValue().endpoints.isEmpty();
    });
  }

  /** The connections of one rule on this loop. */
  private static final class Rule {
    final Map<UpstreamConnection, EndpointConnections> known = new HashMap<>();
    final Map<Endpoint, EndpointConnections> endpoints = new HashMap<>();

  }

  /** One rule's connections to one endpoint on this loop. */
  private static final class EndpointConnections {
    /** Connections open (seen by a request and not closed since). */
    int open;
    /** Attempts sent to the pool and not finished (including those still getting a connection). */
    int inUse;
    final ArrayDeque<Ticket> waiting = new ArrayDeque<>();

    boolean unused() {
      return open == 0 && inUse == 0 && waiting.isEmpty();
    }
  }

  /** One attempt's use of a connection: {@link #enter}, {@link #connected}, {@link #release}. */
  final class Ticket {
    private final Rule rule;
    private final EndpointConnections connections;
    private final CircuitBreakers.Counters counters;
    private final CircuitBreaker limits;
    private final int streams;
    private Runnable send;
    private boolean reserved;
    private boolean inUse;
    private boolean waiting;

    private Ticket(Rule rule, EndpointConnections connections,
        CircuitBreakers.Counters counters, CircuitBreaker limits, int streams) {
      this.rule = rule;
      this.connections = connections;
      this.counters = counters;
      this.limits = limits;
      this.streams = streams;
    }

    /**
     * Runs {@code send} now, or once one of the endpoint's connections on this loop is free when
     * the rule is at its limit (the caller counts the wait as pending).
     */
    void enter(Runnable send) {
      this.send = send;
      if (admit(this)) {
        start();
      } else {
        waiting = true;
        connections.waiting.add(this);
      }
    }

    private void start() {
      inUse = true;
      connections.inUse++;
      send.run();
    }

    /**
     * Takes the attempt's upstream request (null when it got no connection) and counts its
     * connection. Returns what frees the attempt's share, for the caller to run once the
     * response has ended or failed (see {@link UpstreamAttempt}), or null when it was freed at
     * once (no connection).
     */
    Runnable track(UpstreamCall upstream) {
      if (upstream == null || upstream.connection() == null) {
        release();
        return null;
      }
      connected(upstream.connection());
      return this::release;
    }

    private void connected(UpstreamConnection connection) {
      if (!rule.known.containsKey(connection)) {
        rule.known.put(connection, connections);
        connections.open++;
        if (reserved) {
          reserved = false; // The reservation is this connection now.
        } else {
          counters.addConnection();
        }
        connection.closeHandler(v -> {
          if (rule.known.remove(connection) != null) {
            connections.open--;
            counters.releaseConnection();
            wake(connections);
          }
        });
      }
      if (reserved) {
        // The pool handed over a connection that was freed meanwhile: no new one was opened.
        reserved = false;
        counters.releaseConnection();
      }
    }

    /**
     * Frees what the attempt holds (its response ended or failed, or it was given up); safe to
     * call more than once.
     */
    void release() {
      if (waiting) {
        waiting = false;
        connections.waiting.remove(this);
      }
      if (reserved) {
        reserved = false;
        counters.releaseConnection();
      }
      if (inUse) {
        inUse = false;
        // On the next turn of the loop: the pool may take the connection back only after the
        // response handlers ran; a request sent to it earlier would make it open another one.
        vertx.runOnContext(v -> {
          connections.inUse--;
          wake(connections);
        });
      }
    }
  }

  /**
   * Whether {@code ticket} may go to the pool now: a connection of its endpoint on this loop is
   * free, or the rule may open one more (reserved), or, as Envoy ensures every host chosen by
   * load balancing at least one connection per pool, this loop has none to the endpoint, open
   * or being opened (past the limit then).
   */
  private static boolean admit(Ticket ticket) {
    EndpointConnections connections = ticket.connections;
    if ((long) connections.open * ticket.streams - connections.inUse > 0) {
      return true;
    }
    if (ticket.counters.tryConnection(ticket.limits)) {
      ticket.reserved = true;
      return true;
    }
    return connections.open == 0 && connections.inUse == 0;
  }

  /** Starts waiting attempts, in arrival order, while {@link #admit} lets them. */
  private static void wake(EndpointConnections connections) {
    while (!connections.waiting.isEmpty()) {
      Ticket next = connections.waiting.peek();
      if (!admit(next)) {
        return;
      }
      connections.waiting.poll();
      next.waiting = false;
      next.start();
    }
  }
}
