package io.portico.provider;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The cluster's objects as the snapshot holds them, kept up to date one informer change at a
 * time: an object is converted and checked when it changes, not each time any object changes.
 *
 * <p>A change names only which cached object changed ({@link #refresh}); the index compares the
 * informer's current copy with the one it last took, by identity (an informer replaces its
 * cached object on every change and keeps it otherwise), so a change reported twice, or late,
 * costs nothing and can never bring an older version back.
 *
 * <p>Not thread-safe: one thread at a time (the provider builds one snapshot at a time).
 */
final class ClusterIndex {

  /** Where an object comes from: the watch (kind and version) and the informer's key. */
  private record Source(String watch, String storeKey) {
  }

  /** What the index took from one cached object: the copy, and what became of it. */
  private record Entry(HasMetadata cached, ObjectKey key, HasMetadata converted) {
  }

  private final Map<Source, Entry> entries = new HashMap<>();
  /** Valid objects in key order: equal clusters give equal snapshots. */
  private final TreeMap<ObjectKey, HasMetadata> valid = new TreeMap<>();
  private final TreeMap<ObjectKey, ConfigProblem> invalid = new TreeMap<>();
  private long checked;

  /**
   * Takes the current cached copy of one object ({@code null} once deleted).
   *
   * @param convert turns a cached object into what the snapshot holds
   * @return whether the snapshot changes
   */
  boolean refresh(String watch, String storeKey, HasMetadata cached,
      UnaryOperator<HasMetadata> convert) {
    Source source = new Source(watch, storeKey);
    Entry old = entries.get(source);
    if (old != null && old.cached() == cached) {
      return false;
    }
    if (cached == null) {
      forget(source, old);
      return old != null;
    }
    checked++;
    HasMetadata object = convert.apply(cached);
    if (old != null && old.converted() != null && old.converted().equals(object)) {
      // A new copy of the same object (a re-list after the watch reconnected): nothing changes.
      entries.put(source, new Entry(cached, old.key(), old.converted()));
      return false;
    }
    forget(source, old);
    ObjectKey key = ObjectKey.of(object);
    List<String> wrong = YamlResourceReader.objectProblems(object);
    if (wrong.isEmpty()) {
      valid.put(key, object);
      entries.put(source, new Entry(cached, key, object));
    } else {
      ConfigProblem problem = ConfigProblem.error(KubernetesProvider.SOURCE, 0, key + ": "
          + String.join("; ", wrong) + "; the object is not served");
      invalid.put(key, problem);
      entries.put(source, new Entry(cached, key, null));
    }
    return true;
  }

  private void forget(Source source, Entry old) {
    if (old != null) {
      valid.remove(old.key());
      invalid.remove(old.key());
      entries.remove(source);
    }
  }

  /** Returns the snapshot of the valid objects. */
  ResourceSnapshot snapshot() {
    return ResourceSnapshot.of(new ArrayList<>(valid.values()));
  }

  /** Returns the objects left out, one problem each, in key order. */
  List<ConfigProblem> problems() {
    return List.copyOf(invalid.values());
  }

  /** Returns how many cached copies have been converted and checked so far. */
  long checked() {
    return checked;
  }

  @Override
  public String toString() {
    return "ClusterIndex[" + valid.size() + " valid, " + invalid.size() + " invalid]";
  }
}
