package io.portico.ir;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Finds the most specific entry for a request host: an exact name first, then the wildcard with
 * the longest suffix, then the catch-all {@code *}. Built once per table; lookups do not allocate
 * for lower-case hosts.
 *
 * @param <T> the value kept per host name pattern
 */
public final class HostIndex<T> {

  /** Exact names; sharded so that a change copies the few shards it touches. */
  private final ShardedMap<String, T> exact;
  /** Wildcard suffixes such as ".example.com", longest first. */
  private final String[] wildcardSuffixes;
  private final List<T> wildcardValues;
  private final T catchAll;

  private HostIndex(ShardedMap<String, T> exact, String[] wildcardSuffixes,
      List<T> wildcardValues, T catchAll) {
    this.exact = exact;
    this.wildcardSuffixes = wildcardSuffixes;
    this.wildcardValues = wildcardValues;
    this.catchAll = catchAll;
  }

  /**
   * Builds an index over {@code values}, keyed by the host name pattern {@code hostname} returns
   * ({@code null} or {@code "*"} for the catch-all). The first value wins for a repeated pattern.
   */
  public static <T> HostIndex<T> build(List<T> values, Function<T, String> hostname) {
    Map<String, T> exact = new HashMap<>();
    Map<String, T> wildcards = new HashMap<>();
    T catchAll = null;
    for (T value : values) {
      String key = key(hostname.apply(value));
      if (key == null) {
        if (catchAll == null) {
          catchAll = value;
        }
      } else {
        (isSuffix(key) ? wildcards : exact).putIfAbsent(key, value);
      }
    }
    return of(ShardedMap.copyOf(exact), wildcards, catchAll);
  }

  /**
   * Where a hostname pattern is filed: null for the catch-all ({@code null} or {@code "*"}),
   * the lower-cased suffix {@code ".example.com"} for {@code "*.example.com"}, else the
   * lower-cased name (which never starts with a dot).
   */
  private static String key(String pattern) {
    if (pattern == null || pattern.equals("*")) {
      return null;
    }
    return (pattern.startsWith("*.") ? pattern.substring(1) : pattern)
        .toLowerCase(java.util.Locale.ROOT);
  }

  private static boolean isSuffix(String key) {
    return key.startsWith(".");
  }

  private static <T> HostIndex<T> of(ShardedMap<String, T> exact, Map<String, T> wildcards,
      T catchAll) {
    List<String> suffixes = new ArrayList<>(wildcards.keySet());
    suffixes.sort(Comparator.comparingInt(String::length).reversed()
        .thenComparing(Comparator.naturalOrder()));
    List<T> wildcardValues = new ArrayList<>();
    for (String suffix : suffixes) {
      wildcardValues.add(wildcards.get(suffix));
    }
    return new HostIndex<>(exact, suffixes.toArray(String[]::new),
        List.copyOf(wildcardValues), catchAll);
  }

  /**
   * Returns this index with the values of the patterns in {@code put} replaced or added and the
   * patterns in {@code removed} taken out, for an index with one value per pattern: what
   * {@link #build} gives for the changed list of values, without lower-casing and hashing every
   * pattern again (a listener with thousands of virtual hosts changes one at a time).
   */
  public HostIndex<T> with(Map<String, T> put, java.util.Collection<String> removed) {
    // Exact names removed (null) or put, applied shard by shard.
    Map<String, T> exactChanges = new HashMap<>();
    Map<String, T> newWildcards = new HashMap<>();
    for (int i = 0; i < wildcardSuffixes.length; i++) {
      newWildcards.put(wildcardSuffixes[i], wildcardValues.get(i));
    }
    T newCatchAll = catchAll;
    for (String pattern : removed) {
      String key = key(pattern);
      if (key == null) {
        newCatchAll = null;
      } else if (isSuffix(key)) {
        newWildcards.remove(key);
      } else {
        exactChanges.put(key, null);
      }
    }
    for (Map.Entry<String, T> entry : put.entrySet()) {
      String key = key(entry.getKey());
      if (key == null) {
        newCatchAll = entry.getValue();
      } else {
        (isSuffix(key) ? newWildcards : exactChanges).put(key, entry.getValue());
      }
    }
    return of(exact.with(exactChanges), newWildcards, newCatchAll);
  }

  /** Returns an index with the same patterns whose values are {@code mapper} of these. */
  public <U> HostIndex<U> map(Function<T, U> mapper) {
    Map<String, U> mappedExact = new HashMap<>();
    exact.forEach((name, value) -> mappedExact.put(name, mapper.apply(value)));
    List<U> mappedWildcards = new ArrayList<>();
    wildcardValues.forEach(value -> mappedWildcards.add(mapper.apply(value)));
    return new HostIndex<>(ShardedMap.copyOf(mappedExact), wildcardSuffixes,
        List.copyOf(mappedWildcards),
        catchAll == null ? null : mapper.apply(catchAll));
  }

  /**
   * Returns the entry for {@code host} (a host name without port, any case), or null when no
   * pattern covers it. A wildcard never matches the bare suffix: {@code *.example.com} does not
   * match {@code example.com}.
   */
  public T find(String host) {
    String name = normalize(host);
    T value = exact.get(name);
    if (value != null) {
      return value;
    }
    for (int i = 0; i < wildcardSuffixes.length; i++) {
      String suffix = wildcardSuffixes[i];
      if (name.length() > suffix.length() && name.endsWith(suffix)) {
        return wildcardValues.get(i);
      }
    }
    return catchAll;
  }

  private static String normalize(String host) {
    int end = host.length();
    if (end > 0 && host.charAt(end - 1) == '.') {
      end--;
    }
    boolean lower = true;
    for (int i = 0; i < end; i++) {
      char c = host.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        lower = false;
        break;
      }
    }
    String name = end == host.length() ? host : host.substring(0, end);
    return lower ? name : name.toLowerCase(java.util.Locale.ROOT);
  }
}
