package io.portico.provider;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Replaces every list of a fabric8 model object, through its nested objects, with an immutable
 * list of exactly its elements: the one shared empty list when it has none.
 *
 * <p>An informer keeps every object it watches for as long as it exists, and fabric8 makes an
 * {@link ArrayList} for every list field of every model object, read or not (the filters of a
 * backendRef, the headers of a match, the finalizers of metadata). At 10k routes in Kubernetes
 * mode that was 216k lists, most of them empty or of one element: 24 bytes of list and 24 or
 * more of array each, ~11 MB of the ~54 MB live heap (class histogram after churn,
 * bench/scale.py). An immutable list of one or two elements is a single 24-byte object, and the
 * empty one is shared.
 *
 * <p>Only for objects no other thread has seen yet, and that nothing changes afterwards: what
 * an informer caches (the status writer changes clones of those, never the cached copies).
 * Parts already made immutable (an echo's spec, shared with the copy before it) are walked
 * but never written.
 * Generic objects, whose fields are all maps, are left as they are.
 */
final class ImmutableModelLists {

  /** A list-valued property of a model class. */
  private record ListProperty(MethodHandle get, MethodHandle set) {
  }

  /** What to walk in objects of one class: its list properties and its nested model objects. */
  private record Plan(List<ListProperty> lists, List<MethodHandle> nested) {
    static final Plan NOTHING = new Plan(List.of(), List.of());
  }

  private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model.";
  /**
   * The types every handle is adapted to, so that it is called with {@code invokeExact}: a
   * plain {@code invoke} adapts the handle's type on every call, which made compacting 10k
   * routes' copies cost ~110 ms of a cold start.
   */
  private static final MethodType GETTER = MethodType.methodType(Object.class, Object.class);
  private static final MethodType SETTER =
      MethodType.methodType(void.class, Object.class, Object.class);

  private static final ClassValue<Plan> PLANS = new ClassValue<>() {
    @Override
    protected Plan computeValue(Class<?> type) {
      return planOf(type);
    }
  };

  private ImmutableModelLists() {
  }

  /** Makes the lists of {@code object} and of every model object under it immutable. */
  static void apply(Object object) {
    if (object == null) {
      return;
    }
    Plan plan = PLANS.get(object.getClass());
    if (plan == Plan.NOTHING) {
      return;
    }
    try {
      for (MethodHandle get : plan.nested()) {
        apply((Object) get.invokeExact(object));
      }
      for (ListProperty property : plan.lists()) {
        if ((Object) property.get().invokeExact(object) instanceof ArrayList<?> list) {
          for (Object element : list) {
            apply(element);
          }
          property.set().invokeExact(object, (Object) immutable(list));
        }
      }
    } catch (Throwable e) {
      throw new IllegalStateException("cannot compact the lists of "
          + object.getClass().getName(), e);
    }
  }

  /** An immutable list of {@code list}'s elements, nulls included. */
  static List<?> immutable(ArrayList<?> list) {
    if (list.isEmpty()) {
      return List.of();
    }
    for (Object element : list) {
      if (element == null) {
        // List.copyOf refuses nulls, and a null read from JSON is kept as read. Never an
        // ArrayList either: a copy that shares this list (an echo's spec) must find nothing
        // to change in it.
        return Collections.unmodifiableList(Arrays.asList(list.toArray()));
      }
    }
    return List.copyOf(list);
  }

  private static Plan planOf(Class<?> type) {
    if (!isModel(type) || GenericKubernetesResource.class.isAssignableFrom(type)) {
      return Plan.NOTHING;
    }
    MethodHandles.Lookup lookup = MethodHandles.publicLookup();
    List<ListProperty> lists = new ArrayList<>();
    List<MethodHandle> nested = new ArrayList<>();
    for (Method getter : type.getMethods()) {
      if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")) {
        continue;
      }
      Class<?> returned = getter.getReturnType();
      try {
        if (returned == List.class) {
          MethodHandle set = lookup.findVirtual(type, "set" + getter.getName().substring(3),
              MethodType.methodType(void.class, List.class));
          lists.add(new ListProperty(lookup.unreflect(getter).asType(GETTER),
              set.asType(SETTER)));
        } else if (isModel(returned)) {
          nested.add(lookup.unreflect(getter).asType(GETTER));
        }
      } catch (NoSuchMethodException e) {
        // A list without a setter (none in the model today) is left as it is.
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot read " + type.getName() + "."
            + getter.getName(), e);
      }
    }
    return lists.isEmpty() && nested.isEmpty() ? Plan.NOTHING
        : new Plan(List.copyOf(lists), List.copyOf(nested));
  }

  private static boolean isModel(Class<?> type) {
    return type.getName().startsWith(MODEL_PACKAGE) && !type.isEnum() && !type.isInterface();
  }
}
