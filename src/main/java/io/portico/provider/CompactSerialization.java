package io.portico.provider;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.kubernetes.model.jackson.Jackson2JdkTypesModule;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.BeanDescription;
import tools.jackson.databind.DeserializationConfig;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.deser.ValueDeserializerModifier;
import tools.jackson.databind.deser.std.DelegatingDeserializer;
import tools.jackson.databind.deser.jdk.StringDeserializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;

/**
 * The Kubernetes client's serialization, reading objects that take less memory: what the
 * informers cache is most of Portico's heap in Kubernetes mode. Measured at 10k routes
 * (bench/scale.py, class histogram of the live heap after start and churn):
 *
 * <ul>
 *   <li>The short strings of every object read are interned. Each object was otherwise made of
 *       strings of its own, most of them the same few values over and over (API group and kind
 *       names, the namespace, the Gateway's name, path match types, condition types, reasons
 *       and messages, the controller name): 39 MB of strings became 13 MB.
 *   <li>Every fabric8 model object carries a map of the fields its class does not know
 *       ({@code additionalProperties}), made at construction and almost always empty: 300k
 *       empty maps, 17 MB. An empty one is replaced by one shared, unmodifiable empty map.
 *       Not on {@link GenericKubernetesResource}, whose fields all live in that map and which
 *       the status writer fills in. The same for the labels and annotations of metadata that
 *       has none.
 *   <li>Lists are left as read: the informers' store replaces every list of the objects it
 *       keeps with an immutable one of exact size ({@link ImmutableModelLists}), and the other
 *       objects read (status writes' answers, clones) live for one write.
 *   <li>{@code metadata.managedFields} is not read. A real API server gives every object one
 *       entry per field manager ({@code kubectl}, Portico's status writes, other controllers),
 *       each a tree of every field that manager set: about the size of the object's spec
 *       again, for something Portico never reads (as client-go's informers strip it with
 *       {@code TransformStripManagedFields}). Not written either: an update without it leaves
 *       the server's as it is.
 *   <li>The annotation {@code kubectl.kubernetes.io/last-applied-configuration} is dropped on
 *       reading: {@code kubectl apply} stores the whole applied object in it, as JSON, so every
 *       object applied that way was held twice (a Secret's certificate and key too), again for
 *       something Portico never reads.
 * </ul>
 *
 * <p>Objects read this way must not have extra fields, labels or annotations added afterwards
 * (nothing in Portico does: what it writes it sets through typed fields, or on generic objects,
 * and the status writer changes only the status of its copies).
 */
public final class CompactSerialization {

  /**
   * Strings up to this length are interned. Longer ones (certificates, keys, annotations of
   * applied configuration) are rarely repeated, and interning them would cost a hash of each.
   */
  static final int MAX_INTERNED_LENGTH = 128;

  private CompactSerialization() {
  }

  /** Returns a serialization for {@code KubernetesClientBuilder.withKubernetesSerialization}. */
  public static KubernetesSerialization create() {
    // What fabric8's default constructor builds, plus what the class comment lists.
    JsonMapper mapper = JsonMapper.builderWithJackson2Defaults()
        .addModule(new Jackson2JdkTypesModule())
        .addModule(new SimpleModule("portico-compact-objects")
            .addDeserializer(String.class, new InterningStringDeserializer())
            .setDeserializerModifier(new SharedEmptyExtras()))
        .addMixIn(ObjectMeta.class, WithoutManagedFields.class)
        .build();
    return new KubernetesSerialization(mapper, true);
  }

  /** Leaves {@code managedFields} out of every object's metadata, read or written. */
  @JsonIgnoreProperties("managedFields")
  abstract static class WithoutManagedFields {
  }

  /** Jackson's own string deserializer, interning what it returns when short. */
  static final class InterningStringDeserializer extends StringDeserializer {

    @Override
    public String deserialize(JsonParser parser, DeserializationContext context) {
      return intern(super.deserialize(parser, context));
    }
  }

  /**
   * Wraps the deserializer of every fabric8 model class that has extra fields (but generic
   * objects) so that an object read with none shares one empty map.
   */
  static final class SharedEmptyExtras extends ValueDeserializerModifier {

    @Override
    public ValueDeserializer<?> modifyDeserializer(DeserializationConfig config,
        BeanDescription.Supplier description, ValueDeserializer<?> deserializer) {
      Class<?> type = description.getBeanClass();
      if (!type.getName().startsWith("io.fabric8.kubernetes.api.model.")
          || GenericKubernetesResource.class.isAssignableFrom(type)) {
        return deserializer;
      }
      try {
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        MethodHandle get = lookup.findVirtual(type, "getAdditionalProperties",
            MethodType.methodType(Map.class));
        MethodHandle set = lookup.findVirtual(type, "setAdditionalProperties",
            MethodType.methodType(void.class, Map.class));
        return new Compacting(deserializer, get, set);
      } catch (NoSuchMethodException | IllegalAccessException e) {
        return deserializer; // a class without extra fields
      }
    }
  }

  /** Deserializes as its delegate does, then shares the empty extra-fields map. */
  static final class Compacting extends DelegatingDeserializer {
    private final MethodHandle get;
    private final MethodHandle set;

    Compacting(ValueDeserializer<?> delegate, MethodHandle get, MethodHandle set) {
      super(delegate);
      this.get = get;
      this.set = set;
    }

    @Override
    protected ValueDeserializer<?> newDelegatingInstance(ValueDeserializer<?> delegate) {
      return new Compacting(delegate, get, set);
    }

    @Override
    public Object deserialize(JsonParser parser, DeserializationContext context) {
      Object value = super.deserialize(parser, context);
      if (value != null) {
        try {
          Map<?, ?> extras = (Map<?, ?>) get.invoke(value);
          if (extras != null && extras.isEmpty()) {
            set.invoke(value, NO_EXTRAS);
          }
        } catch (Throwable e) {
          throw new IllegalStateException("cannot share the extra fields of "
              + value.getClass().getName(), e);
        }
        if (value instanceof ObjectMeta metadata) {
          compactMetadata(metadata);
        }
      }
      return value;
    }

    /**
     * Drops kubectl's copy of the applied object, then shares the empty maps. Every
     * {@link ObjectMeta} is made with an empty map of labels and one of annotations, and most
     * objects Portico reads keep both empty: at 10k routes in Kubernetes mode, ~99k empty
     * {@code LinkedHashMap}s, 5.5 MB of the live heap (class histogram after churn).
     */
    private static void compactMetadata(ObjectMeta metadata) {
      Map<String, String> annotations = metadata.getAnnotations();
      if (annotations != null && !annotations.isEmpty()) {
        annotations.remove(LAST_APPLIED_CONFIGURATION);
      }
      if (metadata.getLabels() != null && metadata.getLabels().isEmpty()) {
        metadata.setLabels(NO_LABELS);
      }
      if (annotations != null && annotations.isEmpty()) {
        metadata.setAnnotations(NO_LABELS);
      }
    }
  }

  /**
   * The annotation {@code kubectl apply} leaves on every object it applies: the whole object
   * as JSON, for its next three-way merge. Not kept: Portico never reads it, and it is the
   * object's size again (a Secret's certificate and key twice over). Writes cannot lose it:
   * Portico writes only the status subresource, which leaves metadata as the server has it.
   */
  static final String LAST_APPLIED_CONFIGURATION =
      "kubectl.kubernetes.io/last-applied-configuration";

  /** The shared extra-fields map of objects read without any. */
  static final Map<String, Object> NO_EXTRAS = Map.of();

  /** The shared labels and annotations of metadata read without any. */
  static final Map<String, String> NO_LABELS = Map.of();

  /** Returns the interned copy of {@code value} when it is short, else {@code value}. */
  static String intern(String value) {
    return value != null && value.length() <= MAX_INTERNED_LENGTH ? value.intern() : value;
  }
}
