package io.portico.proxy.lb;

import io.portico.ir.Endpoint;

import java.util.List;

/** Cycles through the ready endpoints of one backend. Confined to one event loop. */
public final class RoundRobin {

  private final List<Endpoint> endpoints;
  private int next;

  /**
   * Starts at a random endpoint: every event loop has its own round robin, and a fresh one is
   * made whenever the endpoints (or their health) change. Starting each at the first endpoint
   * would send the first request of every loop, after every change, to the same pod (two
   * curls in a row on two loops both landing on pod 0 look like no balancing at all).
   */
  public RoundRobin(List<Endpoint> endpoints) {
    this.endpoints = endpoints;
    this.next = endpoints.size() > 1 ? java.util.concurrent.ThreadLocalRandom.current()
        .nextInt(endpoints.size()) : 0;
  }

  /** Returns whether this cycles through exactly {@code list} (the same instance). */
  public boolean cycles(List<Endpoint> list) {
    return endpoints == list;
  }

  /** Returns the next endpoint, or null when there is none. */
  public Endpoint next() {
    int size = endpoints.size();
    if (size == 0) {
      return null;
    }
    if (next >= size) {
      next = 0;
    }
    return endpoints.get(next++);
  }

  /** Returns the endpoint after {@code tried}, or null when {@code tried} is the only one. */
  public Endpoint nextExcept(Endpoint tried) {
    if (endpoints.size() < 2) {
      return null;
    }
    Endpoint candidate = next();
    return candidate.equals(tried) ? next() : candidate;
  }
}
