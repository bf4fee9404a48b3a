package io.portico.translate;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrant;
import io.portico.resource.ResourceSnapshot;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Looks objects of a snapshot up by namespace and name; built once per translation. */
final class SnapshotIndex {

  /**
   * Orders objects the way the Gateway API breaks ties between them: oldest creationTimestamp
   * first, then alphabetically by "{namespace}/{name}".
   */
  static final Comparator<HasMetadata> OLDEST_FIRST = Comparator
      .comparing((HasMetadata o) -> creation(o))
      .thenComparing(o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());

  /**
   * Sorts {@code objects} in {@link #OLDEST_FIRST} order, reading each object's timestamp and
   * name once rather than at every comparison (parsing timestamps in the comparator was a
   * tenth of translation at 10k routes).
   */
  static <T extends HasMetadata> void sortOldestFirst(List<T> objects) {
    record Keyed<T>(T object, OffsetDateTime creation, String name) {}
    List<Keyed<T>> keyed = new ArrayList<>(objects.size());
    for (T object : objects) {
      keyed.add(new Keyed<>(object, creation(object),
          object.getMetadata().getNamespace() + "/" + object.getMetadata().getName()));
    }
    keyed.sort(Comparator.comparing((Keyed<T> k) -> k.creation()).thenComparing(Keyed::name));
    for (int i = 0; i < keyed.size(); i++) {
      objects.set(i, keyed.get(i).object());
    }
  }

  private final ResourceSnapshot snapshot;
  private final Map<String, Service> services = new HashMap<>();
  private final Map<String, GenericKubernetesResource> backends = new HashMap<>();
  private final Map<String, Gateway> gateways = new HashMap<>();
  private final Map<String, Secret> secrets = new HashMap<>();
  private final Map<String, ConfigMap> configMaps = new HashMap<>();
  private final Map<String, Namespace> namespaces = new HashMap<>();
  private final Map<String, List<ReferenceGrant>> grantsByNamespace = new HashMap<>();

  SnapshotIndex(ResourceSnapshot snapshot) {
    this.snapshot = snapshot;
    snapshot.services().forEach(s -> services.put(key(s), s));
    snapshot.backends().forEach(b -> backends.put(key(b), b));
    snapshot.gateways().forEach(g -> gateways.put(key(g), g));
    snapshot.secrets().forEach(s -> secrets.put(key(s), s));
    snapshot.configMaps().forEach(c -> configMaps.put(key(c), c));
    snapshot.namespaces().forEach(n -> namespaces.put(n.getMetadata().getName(), n));
    snapshot.referenceGrants().forEach(g -> grantsByNamespace
        .computeIfAbsent(g.getMetadata().getNamespace(), k -> new ArrayList<>()).add(g));
  }

  ResourceSnapshot snapshot() {
    return snapshot;
  }

  Service service(String namespace, String name) {
    return services.get(namespace + "/" + name);
  }

  GenericKubernetesResource backend(String namespace, String name) {
    return backends.get(namespace + "/" + name);
  }

  Secret secret(String namespace, String name) {
    return secrets.get(namespace + "/" + name);
  }

  ConfigMap configMap(String namespace, String name) {
    return configMaps.get(namespace + "/" + name);
  }

  Gateway gateway(String namespace, String name) {
    return gateways.get(namespace + "/" + name);
  }

  /**
   * Returns the labels of a namespace. A namespace the snapshot does not list (standalone
   * configurations often leave them out) has only the label Kubernetes always sets.
   */
  Map<String, String> namespaceLabels(String name) {
    Namespace namespace = namespaces.get(name);
    Map<String, String> labels = new HashMap<>();
    if (namespace != null && namespace.getMetadata().getLabels() != null) {
      labels.putAll(namespace.getMetadata().getLabels());
    }
    labels.put("kubernetes.io/metadata.name", name);
    return labels;
  }

  List<ReferenceGrant> referenceGrants(String namespace) {
    return grantsByNamespace.getOrDefault(namespace, List.of());
  }

  static String key(HasMetadata object) {
    return object.getMetadata().getNamespace() + "/" + object.getMetadata().getName();
  }

  static long generation(HasMetadata object) {
    Long generation = object.getMetadata().getGeneration();
    return generation == null ? 1L : generation;
  }

  private static OffsetDateTime creation(HasMetadata object) {
    String timestamp = object.getMetadata().getCreationTimestamp();
    if (timestamp == null) {
      return OffsetDateTime.MAX;
    }
    OffsetDateTime canonical = canonicalUtc(timestamp);
    if (canonical != null) {
      return canonical;
    }
    try {
      return OffsetDateTime.parse(timestamp);
    } catch (DateTimeParseException e) {
      return OffsetDateTime.MAX;
    }
  }

  /**
   * Reads the form the API server (and the file provider) writes, {@code 2006-01-02T15:04:05Z},
   * without a DateTimeFormatter: parsing with one was most of the cost of ordering 10k routes
   * (async-profiler, bench/scale.py). Returns what {@link OffsetDateTime#parse} would, or null
   * for any other form (or an invalid date), which is then left to it.
   */
  static OffsetDateTime canonicalUtc(String timestamp) {
    if (timestamp.length() != 20 || timestamp.charAt(4) != '-' || timestamp.charAt(7) != '-'
        || timestamp.charAt(10) != 'T' || timestamp.charAt(13) != ':'
        || timestamp.charAt(16) != ':' || timestamp.charAt(19) != 'Z') {
      return null;
    }
    int year = digits(timestamp, 0, 4);
    int month = digits(timestamp, 5, 2);
    int day = digits(timestamp, 8, 2);
    int hour = digits(timestamp, 11, 2);
    int minute = digits(timestamp, 14, 2);
    int second = digits(timestamp, 17, 2);
    if ((year | month | day | hour | minute | second) < 0) {
      return null;
    }
    try {
      return OffsetDateTime.of(year, month, day, hour, minute, second, 0, ZoneOffset.UTC);
    } catch (DateTimeException e) {
      return null;
    }
  }

  /** The decimal number in {@code s} at [start, start + count), or -1 if not all digits. */
  private static int digits(String s, int start, int count) {
    int value = 0;
    for (int i = start; i < start + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }
}
