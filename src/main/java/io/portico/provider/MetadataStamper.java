package io.portico.provider;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.resource.ObjectKey;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Gives objects read from files the metadata the API server would: generation, creationTimestamp,
 * uid and resourceVersion, kept stable across reloads while an object exists.
 *
 * <p>Status conditions carry observedGeneration and route precedence uses creationTimestamp, so
 * these must only change when Kubernetes would change them. The objects it returns are copies
 * that it never changes afterwards. Not thread-safe.
 */
final class MetadataStamper {

  /**
   * What is remembered of an object between reloads: no more than the two objects, because at
   * 10k routes a JSON tree of each as written and of its spec (kept to compare the next
   * version with) were a third of the heap. The trees are made again only for an object that
   * changed.
   *
   * @param input the object as last read (a file that did not change gives the same instance
   *     back, see ParsedFiles: then nothing is converted or compared)
   * @param stamped the copy handed out, with the metadata set here
   */
  private record Tracked(HasMetadata input, HasMetadata stamped) {}

  private final KubernetesSerialization serialization;
  private final Clock clock;
  private Map<ObjectKey, Tracked> tracked = new HashMap<>();
  private long resourceVersion;

  MetadataStamper(KubernetesSerialization serialization, Clock clock) {
    this.serialization = serialization;
    this.clock = clock;
  }

  /**
   * Returns stamped copies of {@code objects} (as written, with unique keys) and forgets objects
   * not among them, so that one that comes back is new again.
   */
  List<HasMetadata> stamp(Map<ObjectKey, HasMetadata> objects) {
    Map<ObjectKey, Tracked> next = new HashMap<>();
    List<HasMetadata> stamped = new ArrayList<>(objects.size());
    for (Map.Entry<ObjectKey, HasMetadata> entry : objects.entrySet()) {
      Tracked current = stamp(entry.getValue(), tracked.get(entry.getKey()));
      next.put(entry.getKey(), current);
      stamped.add(current.stamped());
    }
    tracked = next;
    return stamped;
  }

  /**
   * Returns the stamped copy of one object (as written) that was read again or is new, and
   * remembers it: what {@link #stamp(Map)} does for it, without a pass over every object.
   */
  HasMetadata stamp(ObjectKey key, HasMetadata object) {
    Tracked current = stamp(object, tracked.get(key));
    tracked.put(key, current);
    return current.stamped();
  }

  /** Forgets objects that are gone, so that one that comes back is new again. */
  void forget(java.util.Collection<ObjectKey> keys) {
    keys.forEach(tracked::remove);
  }

  private Tracked stamp(HasMetadata object, Tracked previous) {
    if (previous != null && previous.input() == object) {
      return previous;
    }
    if (previous != null && previous.input().equals(object)) {
      // Read again (its file changed) but written the same: the same stamped copy.
      return new Tracked(object, previous.stamped());
    }
    HasMetadata copy = withOwnMetadata(object);
    ObjectMeta meta = copy.getMetadata();
    if (previous == null) {
      meta.setGeneration(1L);
      if (meta.getUid() == null) {
        meta.setUid(ObjectUids.next());
      }
      if (meta.getCreationTimestamp() == null) {
        meta.setCreationTimestamp(DateTimeFormatter.ISO_INSTANT.format(
            clock.instant().truncatedTo(ChronoUnit.SECONDS)));
      }
    } else {
      ObjectMeta before = previous.stamped().getMetadata();
      long generation = before.getGeneration();
      meta.setGeneration(content(previous.input()).equals(content(object))
          ? generation : generation + 1);
      if (meta.getUid() == null) {
        meta.setUid(before.getUid());
      }
      if (meta.getCreationTimestamp() == null) {
        meta.setCreationTimestamp(before.getCreationTimestamp());
      }
    }
    meta.setResourceVersion(Long.toString(++resourceVersion));
    return new Tracked(object, copy);
  }

  /**
   * Returns a copy of {@code object} that shares everything but its metadata's own fields, which
   * are copied to be stamped. The input is never changed after it is read, nor the copy after it
   * is handed out, so they can share their spec, and the metadata's labels, annotations and
   * other nested values (stamping sets only top-level fields of the metadata): a deep copy of
   * each object doubled the configuration's share of the heap (at 10k routes, ~20 MiB), and a
   * deep copy of the metadata (a JSON round trip) was 1.5% of the CPU of a start at 10k routes
   * (async-profiler). Falls back to a deep copy for a class that cannot be copied field by field.
   */
  private HasMetadata withOwnMetadata(HasMetadata object) {
    HasMetadata copy = FieldCopier.copy(object);
    ObjectMeta meta = copy == null ? null : FieldCopier.copy(object.getMetadata());
    if (meta == null) {
      return serialization.clone(object);
    }
    copy.setMetadata(meta);
    return copy;
  }

  /** Copies fabric8 model objects field by field (a shallow copy). */
  private static final class FieldCopier {

    /** How to copy one class: its no-argument constructor and its instance fields. */
    private record Plan(java.lang.reflect.Constructor<?> constructor,
        java.lang.reflect.Field[] fields) {
    }

    /** Per class, made accessible once; null for a class that cannot be copied so. */
    private static final ClassValue<Plan> PLANS = new ClassValue<>() {
      @Override
      protected Plan computeValue(Class<?> type) {
        List<java.lang.reflect.Field> fields = new ArrayList<>();
        try {
          for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (java.lang.reflect.Field field : c.getDeclaredFields()) {
              if (!java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
                field.setAccessible(true);
                fields.add(field);
              }
            }
          }
          java.lang.reflect.Constructor<?> constructor = type.getDeclaredConstructor();
          constructor.setAccessible(true);
          return new Plan(constructor, fields.toArray(new java.lang.reflect.Field[0]));
        } catch (RuntimeException | NoSuchMethodException e) {
          return null;
        }
      }
    };

    /** Returns a shallow copy of {@code object}, or null if its class does not allow one. */
    @SuppressWarnings("unchecked")
    static <T> T copy(T object) {
      Plan plan = PLANS.get(object.getClass());
      if (plan == null) {
        return null;
      }
      try {
        T copy = (T) plan.constructor().newInstance();
        for (java.lang.reflect.Field field : plan.fields()) {
          field.set(copy, field.get(object));
        }
        return copy;
      } catch (ReflectiveOperationException | RuntimeException e) {
        return null;
      }
    }
  }

  /** Returns what the generation follows: everything but metadata and status. */
  private JsonNode content(HasMetadata object) {
    JsonNode written = serialization.convertValue(object, JsonNode.class);
    if (written instanceof ObjectNode tree) {
      tree.remove("metadata");
      tree.remove("status");
    }
    return written;
  }
}
