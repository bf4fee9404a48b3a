package io.portico.translate;

import java.util.HashMap;
import java.util.Map;

/**
 * Remembers each HTTP listener's virtual hosts from one translation to the next, so that a
 * change to one route among thousands builds the virtual hosts of that route's hostnames alone
 * (see {@link ListenerHosts#with}), and the old and new tables share the others.
 *
 * <p>A virtual host is a function of the entries that cover its pattern and of how policies
 * apply to them (BackendTrafficPolicy, a SecurityPolicy failing closed). Entries are kept as the
 * same objects while their route is (see {@link AttachedRoutes}), and listeners are recognised
 * by their position, which stays while Gateways and ListenerSets are the same objects. So the
 * virtual hosts are reused when every object other than routes and endpoints is the same
 * instance as last time and no policy applies to any route, this time or last time; otherwise
 * every listener is built from scratch. (How a policy applies to an entry could be compared per
 * entry; policies are rare next to route churn, so they simply turn the reuse off.)
 *
 * <p>At 10k routes on one listener, building every virtual host, sorting them and indexing them
 * again was a fifth of each translation (async-profiler, bench/scale.py). Safe for use by one
 * translation at a time; the remembered state is replaced whole at the end of each.
 */
final class AssembledHosts {

  private volatile Map<Integer, ListenerHosts> last = Map.of();
  private final java.util.concurrent.atomic.AtomicLong builds =
      new java.util.concurrent.atomic.AtomicLong();

  /** How many virtual hosts were built (not reused) so far: what tests check the reuse by. */
  long builds() {
    return builds.get();
  }

  /**
   * Starts one translation.
   *
   * @param reusable whether every object other than routes, endpoints and Secrets is the same
   *     instance as at the last translation (see {@link CompiledRoutes.Session#reusing})
   * @param policies whether a policy applies to some route: nothing is then reused, nor
   *     remembered for the next translation
   */
  Session begin(boolean reusable, boolean policies) {
    return new Session(reusable && !policies ? last : Map.of(), !policies);
  }

  /** One translation's use of the remembered virtual hosts. */
  final class Session {
    private final Map<Integer, ListenerHosts> previous;
    private final boolean remember;
    private final Map<Integer, ListenerHosts> current = new HashMap<>();

    private Session(Map<Integer, ListenerHosts> previous, boolean remember) {
      this.previous = previous;
      this.remember = remember;
    }

    /**
     * Returns the virtual hosts of the listener at {@code position} (see
     * {@link AttachedRoutes.Placement}) with {@code entries}: updated from the last
     * translation's when it has them, built otherwise.
     */
    ListenerHosts hosts(int position, java.util.List<RouteEntry> entries,
        ListenerHosts.Builder builder) {
      ListenerHosts.Builder counted = (pattern, covering) -> {
        builds.incrementAndGet();
        return builder.build(pattern, covering);
      };
      ListenerHosts before = previous.get(position);
      ListenerHosts hosts = before == null ? ListenerHosts.of(entries, counted)
          : before.with(entries, counted);
      current.put(position, hosts);
      return hosts;
    }

    /**
     * Ends the translation: what it built is what the next one may reuse, if policies allowed
     * reuse this time (see above).
     */
    void next() {
      last = remember ? Map.copyOf(current) : Map.of();
    }
  }
}
