package io.portico.ir;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * An immutable map split into a fixed number of shards by key hash, so that a copy with a few
 * keys changed ({@link #with}) copies only the shards those keys fall in and shares the others.
 *
 * <p>Why: a listener with 10k hostnames keeps a map from hostname to routes, and its host index
 * one from hostname to virtual host; both used to be copied whole at every route change (a 10k
 * entry {@code HashMap}, ~400 KB, twice per change), which a burst of changes promoted into the
 * old generation by the megabyte (bench/scale.py, GC log). With 64 shards a change copies ~1/64
 * of each. A lookup costs one more array index than a {@code HashMap}'s.
 *
 * @param <K> the key type
 * @param <V> the value type
 */
public final class ShardedMap<K, V> extends AbstractMap<K, V> {

  private static final int SHARD_BITS = 6;
  private static final int SHARDS = 1 << SHARD_BITS;
  private static final Map<?, ?>[] EMPTY_SHARDS = emptyShards();

  private final Map<K, V>[] shards;
  private final int size;

  private ShardedMap(Map<K, V>[] shards, int size) {
    this.shards = shards;
    this.size = size;
  }

  /** Returns an immutable copy of {@code map}. */
  public static <K, V> ShardedMap<K, V> copyOf(Map<K, V> map) {
    if (map instanceof ShardedMap<K, V> sharded) {
      return sharded;
    }
    return ShardedMap.<K, V>empty().with(map);
  }

  /** Returns the empty map. */
  @SuppressWarnings("unchecked")
  public static <K, V> ShardedMap<K, V> empty() {
    return new ShardedMap<>((Map<K, V>[]) EMPTY_SHARDS, 0);
  }

  /**
   * Returns this map with the entries of {@code changes} applied: a key mapped to a value is put,
   * a key mapped to {@code null} removed. Shards no change falls in are shared with this map.
   */
  public ShardedMap<K, V> with(Map<? extends K, ? extends V> changes) {
    if (changes.isEmpty()) {
      return this;
    }
    Map<K, V>[] copy = shards.clone();
    boolean[] copied = new boolean[SHARDS];
    int newSize = size;
    for (Map.Entry<? extends K, ? extends V> change : changes.entrySet()) {
      int at = shardOf(change.getKey());
      if (!copied[at]) {
        copy[at] = new HashMap<>(copy[at]);
        copied[at] = true;
      }
      V previous = change.getValue() == null ? copy[at].remove(change.getKey())
          : copy[at].put(change.getKey(), change.getValue());
      if (previous == null && change.getValue() != null) {
        newSize++;
      } else if (previous != null && change.getValue() == null) {
        newSize--;
      }
    }
    for (int at = 0; at < SHARDS; at++) {
      if (copied[at] && copy[at].isEmpty()) {
        copy[at] = Collections.emptyMap();
      }
    }
    return new ShardedMap<>(copy, newSize);
  }

  @Override
  public V get(Object key) {
    return shards[shardOf(key)].get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return shards[shardOf(key)].containsKey(key);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Entry<K, V>> iterator() {
        return new Iterator<>() {
          private int shard = 0;
          private Iterator<Entry<K, V>> current = shards[0].entrySet().iterator();

          @Override
          public boolean hasNext() {
            while (!current.hasNext() && shard < SHARDS - 1) {
              current = shards[++shard].entrySet().iterator();
            }
            return current.hasNext();
          }

          @Override
          public Entry<K, V> next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            Entry<K, V> entry = current.next();
            return new SimpleImmutableEntry<>(entry.getKey(), entry.getValue());
          }
        };
      }

      @Override
      public int size() {
        return size;
      }
    };
  }

  /**
   * The top six bits of the key's hash, scrambled: each shard's {@code HashMap} picks its bucket
   * from the low bits, which must not all be the same within a shard.
   */
  private static int shardOf(Object key) {
    int h = key == null ? 0 : key.hashCode();
    return (h * 0x9E3779B9) >>> (Integer.SIZE - SHARD_BITS);
  }

  private static Map<?, ?>[] emptyShards() {
    Map<?, ?>[] shards = new Map<?, ?>[SHARDS];
    java.util.Arrays.fill(shards, Collections.emptyMap());
    return shards;
  }
}
