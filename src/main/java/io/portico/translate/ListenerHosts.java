package io.portico.translate;

import io.portico.ir.HostIndex;
import io.portico.ir.ShardedMap;
import io.portico.ir.VirtualHost;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The virtual hosts of one HTTP listener, and what lets the next translation rebuild only those a
 * change touches: the route entries they were built from, by hostname.
 *
 * <p>A virtual host for pattern P holds every entry with a hostname that covers P (P itself, a
 * wildcard over one of its parent domains, or any host), so an entry that comes or goes touches
 * exactly the patterns its hostnames cover; the other virtual hosts are kept as they are, the
 * same objects, shared by the old and the new table. A virtual host's routes are sorted by
 * {@link RoutePrecedence}, a total order, so it does not depend on the order its entries were
 * found in.
 *
 * @param entries the listener's route entries, in attachment order
 * @param byHostname the entries per hostname they serve on the listener
 * @param virtualHosts one per hostname, most specific first (then by name)
 * @param index the virtual hosts by hostname, for the proxy's lookup
 * @param wildcards whether an entry may be written for a wildcard hostname (true may be stale
 *     after the last one went: that costs a few lookups that find nothing, not a wrong result)
 */
record ListenerHosts(List<RouteEntry> entries, ShardedMap<String, List<RouteEntry>> byHostname,
    List<VirtualHost> virtualHosts, HostIndex<VirtualHost> index, boolean wildcards) {

  /** Builds the virtual host of one pattern from the entries that cover it. */
  interface Builder {
    VirtualHost build(String pattern, List<RouteEntry> covering);
  }

  /** The order of a listener's virtual hosts: exact names, longer wildcards, any host. */
  static final Comparator<VirtualHost> ORDER =
      Comparator.comparingInt((VirtualHost v) -> -Hostnames.specificity(v.hostname()))
          .thenComparing(VirtualHost::hostname);

  /** Builds every virtual host of a listener with {@code entries}. */
  static ListenerHosts of(List<RouteEntry> entries, Builder builder) {
    Map<String, List<RouteEntry>> byHostname = new HashMap<>();
    for (RouteEntry entry : entries) {
      for (String hostname : entry.hostnames()) {
        List<RouteEntry> list = byHostname.computeIfAbsent(hostname, h -> new ArrayList<>());
        if (list.isEmpty() || list.get(list.size() - 1) != entry) {
          list.add(entry);
        }
      }
    }
    boolean wildcards = byHostname.keySet().stream().anyMatch(Hostnames::isWildcard);
    List<VirtualHost> virtualHosts = new ArrayList<>(byHostname.size());
    for (String pattern : byHostname.keySet()) {
      virtualHosts.add(builder.build(pattern, covering(pattern, byHostname, wildcards)));
    }
    virtualHosts.sort(ORDER);
    List<VirtualHost> sorted = List.copyOf(virtualHosts);
    return new ListenerHosts(entries, ShardedMap.copyOf(byHostname), sorted,
        HostIndex.build(sorted, VirtualHost::hostname), wildcards);
  }

  /**
   * Returns the virtual hosts of this listener with {@code newEntries}: those whose pattern an
   * entry that came or went covers are built again, the others kept. Equal to
   * {@code of(newEntries, builder)} (TranslatorIncrementalTest).
   */
  ListenerHosts with(List<RouteEntry> newEntries, Builder builder) {
    // Unchanged entries are the same objects (see AttachedRoutes) and keep their order, so the
    // changes lie between a common prefix and a common suffix: one new route is one entry at
    // the end, found without hashing the other 10k.
    int prefix = 0;
    int limit = Math.min(entries.size(), newEntries.size());
    while (prefix < limit && entries.get(prefix) == newEntries.get(prefix)) {
      prefix++;
    }
    int suffix = 0;
    while (suffix < limit - prefix && entries.get(entries.size() - 1 - suffix)
        == newEntries.get(newEntries.size() - 1 - suffix)) {
      suffix++;
    }
    List<RouteEntry> before = entries.subList(prefix, entries.size() - suffix);
    List<RouteEntry> after = newEntries.subList(prefix, newEntries.size() - suffix);
    List<RouteEntry> removed = missingFrom(before, after);
    List<RouteEntry> added = missingFrom(after, before);
    if (removed.isEmpty() && added.isEmpty()) {
      return new ListenerHosts(newEntries, byHostname, virtualHosts, index, wildcards);
    }
    Set<String> touched = new HashSet<>();
    removed.forEach(entry -> touched.addAll(entry.hostnames()));
    added.forEach(entry -> touched.addAll(entry.hostnames()));
    if (touched.contains(Hostnames.ANY)) {
      return of(newEntries, builder); // an entry for any host is in every virtual host
    }

    // The touched hostnames' new lists (null: no entry left), then applied shard by shard: the
    // map of a listener with 10k hostnames is not copied whole for one route.
    Map<String, List<RouteEntry>> changes = new HashMap<>();
    for (RouteEntry entry : removed) {
      for (String hostname : entry.hostnames()) {
        List<RouteEntry> list = new ArrayList<>(current(hostname, changes));
        list.removeIf(e -> e == entry);
        changes.put(hostname, list.isEmpty() ? null : list);
      }
    }
    for (RouteEntry entry : added) {
      for (String hostname : entry.hostnames()) {
        List<RouteEntry> list = new ArrayList<>(current(hostname, changes));
        if (list.isEmpty() || list.get(list.size() - 1) != entry) {
          list.add(entry);
        }
        changes.put(hostname, list);
      }
    }
    ShardedMap<String, List<RouteEntry>> hostnames = byHostname.with(changes);

    // The patterns a touched hostname covers: itself, and for a wildcard the names below it.
    Set<String> affected = new HashSet<>(touched);
    List<String> touchedWildcards = touched.stream().filter(Hostnames::isWildcard).toList();
    if (!touchedWildcards.isEmpty()) {
      Set<String> patterns = new HashSet<>(byHostname.keySet());
      patterns.addAll(hostnames.keySet());
      for (String pattern : patterns) {
        for (String wildcard : touchedWildcards) {
          if (Hostnames.covers(wildcard, pattern)) {
            affected.add(pattern);
          }
        }
      }
    }
    boolean anyWildcards = wildcards || !touchedWildcards.isEmpty();
    Map<String, VirtualHost> rebuilt = new HashMap<>();
    for (String pattern : affected) {
      if (hostnames.containsKey(pattern)) {
        rebuilt.put(pattern, builder.build(pattern, covering(pattern, hostnames, anyWildcards)));
      }
    }

    List<VirtualHost> sorted = new ArrayList<>(virtualHosts.size() + rebuilt.size());
    Set<String> gone = new HashSet<>();
    for (VirtualHost host : virtualHosts) {
      if (!affected.contains(host.hostname())) {
        sorted.add(host);
      } else if (rebuilt.containsKey(host.hostname())) {
        sorted.add(rebuilt.get(host.hostname()));
      } else {
        gone.add(host.hostname());
      }
    }
    for (Map.Entry<String, VirtualHost> host : rebuilt.entrySet()) {
      if (!byHostname.containsKey(host.getKey())) {
        int at = Collections.binarySearch(sorted, host.getValue(), ORDER);
        sorted.add(-(at + 1), host.getValue());
      }
    }
    List<VirtualHost> result = List.copyOf(sorted);
    return new ListenerHosts(newEntries, hostnames, result, index.with(rebuilt, gone),
        anyWildcards);
  }

  /** The entries of {@code hostname} with {@code changes} made so far, empty if none. */
  private List<RouteEntry> current(String hostname, Map<String, List<RouteEntry>> changes) {
    List<RouteEntry> list = changes.containsKey(hostname) ? changes.get(hostname)
        : byHostname.get(hostname);
    return list == null ? List.of() : list;
  }

  /** Returns the entries of {@code list} that are not in {@code other} (by identity). */
  private static List<RouteEntry> missingFrom(List<RouteEntry> list, List<RouteEntry> other) {
    Set<RouteEntry> others = Collections.newSetFromMap(new IdentityHashMap<>());
    others.addAll(other);
    List<RouteEntry> missing = new ArrayList<>();
    for (RouteEntry entry : list) {
      if (!others.contains(entry)) {
        missing.add(entry);
      }
    }
    return missing;
  }

  /**
   * Returns the entries with a hostname that may cover {@code pattern}: those written for the
   * pattern itself, for any host, or for a wildcard over one of its parent domains. Looked up by
   * hostname rather than by testing every entry against every pattern, which made a listener with
   * one hostname per route quadratic in the route count.
   *
   * @param wildcards whether any entry is written for a wildcard: if not, none is looked up
   */
  private static List<RouteEntry> covering(String pattern,
      Map<String, List<RouteEntry>> byHostname, boolean wildcards) {
    List<List<RouteEntry>> found = new ArrayList<>(2);
    addIfAny(found, byHostname.get(pattern));
    if (!pattern.equals(Hostnames.ANY)) {
      addIfAny(found, byHostname.get(Hostnames.ANY));
    }
    if (wildcards) {
      String name = Hostnames.isWildcard(pattern) ? pattern.substring(1) : pattern;
      for (int dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
        String wildcard = "*" + name.substring(dot);
        if (!wildcard.equals(pattern)) {
          addIfAny(found, byHostname.get(wildcard));
        }
      }
    }
    if (found.size() == 1) {
      return found.get(0); // the common case: a host only its own routes name
    }
    // An entry with several hostnames may be in several lists: once is enough.
    Set<RouteEntry> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<RouteEntry> merged = new ArrayList<>();
    for (List<RouteEntry> list : found) {
      for (RouteEntry entry : list) {
        if (seen.add(entry)) {
          merged.add(entry);
        }
      }
    }
    return merged;
  }

  private static void addIfAny(List<List<RouteEntry>> found, List<RouteEntry> entries) {
    if (entries != null) {
      found.add(entries);
    }
  }
}
