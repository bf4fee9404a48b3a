package io.portico.resource;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicy;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSet;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRoute;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Tells whether two copies of an object differ only in what an API server changes when a status
 * is written: the status itself, {@code metadata.resourceVersion} and
 * {@code metadata.managedFields}. Nothing Portico translates reads those, so such a copy (in
 * Kubernetes mode, every status Portico writes comes back as one) translates exactly as the
 * copy before it.
 *
 * <p>The Gateway API kinds and the generic (Envoy Gateway) kinds, whose status Portico writes,
 * are compared field by field without allocating: the Kubernetes provider asks for every update
 * its informers deliver, and at 10k routes a burst of status writes is thousands of updates.
 * Other kinds are compared as JSON trees without those fields.
 */
public final class StatusEchoes {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  /**
   * Where the spec and the unknown fields of a typed kind are, for the kinds whose status
   * Portico writes: one entry per kind, so comparing and sharing cannot disagree on the list.
   */
  private record Parts<T>(Function<T, Object> spec, BiConsumer<T, Object> setSpec,
      Function<T, Map<String, Object>> extra) {
  }

  private static final Map<Class<?>, Parts<?>> TYPED = Map.of(
      HTTPRoute.class,
      parts(HTTPRoute::getSpec, HTTPRoute::setSpec, HTTPRoute::getAdditionalProperties),
      Gateway.class, parts(Gateway::getSpec, Gateway::setSpec, Gateway::getAdditionalProperties),
      GatewayClass.class,
      parts(GatewayClass::getSpec, GatewayClass::setSpec, GatewayClass::getAdditionalProperties),
      ListenerSet.class,
      parts(ListenerSet::getSpec, ListenerSet::setSpec, ListenerSet::getAdditionalProperties),
      BackendTLSPolicy.class, parts(BackendTLSPolicy::getSpec, BackendTLSPolicy::setSpec,
          BackendTLSPolicy::getAdditionalProperties),
      GRPCRoute.class,
      parts(GRPCRoute::getSpec, GRPCRoute::setSpec, GRPCRoute::getAdditionalProperties),
      TLSRoute.class,
      parts(TLSRoute::getSpec, TLSRoute::setSpec, TLSRoute::getAdditionalProperties),
      TCPRoute.class,
      parts(TCPRoute::getSpec, TCPRoute::setSpec, TCPRoute::getAdditionalProperties),
      UDPRoute.class,
      parts(UDPRoute::getSpec, UDPRoute::setSpec, UDPRoute::getAdditionalProperties));

  @SuppressWarnings("unchecked")
  private static <T, S> Parts<T> parts(Function<T, S> spec, BiConsumer<T, S> setSpec,
      Function<T, Map<String, Object>> extra) {
    return new Parts<>(spec::apply, (object, value) -> setSpec.accept(object, (S) value), extra);
  }

  /** The parts of {@code object}'s kind, or null when it is not one of {@link #TYPED}. */
  @SuppressWarnings("unchecked")
  private static Parts<Object> partsOf(Object object) {
    return (Parts<Object>) TYPED.get(object.getClass());
  }

  private StatusEchoes() {
  }

  /**
   * Returns whether {@link #sameButStatus} compares objects like {@code object} field by field,
   * without allocating: the kinds whose status Portico writes (Gateway API kinds, and the
   * generic objects of Envoy Gateway's kinds). Others are compared as JSON trees.
   */
  public static boolean comparedFieldByField(Object object) {
    return TYPED.containsKey(object.getClass()) || object instanceof GenericKubernetesResource;
  }

  /**
   * Makes {@code echo}, a copy that {@link #sameButStatus} found equal to {@code previous} but
   * for status, share {@code previous}'s spec (the same instance) instead of holding an equal
   * copy of its own: an informer keeps the newest copy while a snapshot may keep the previous
   * one, and with 10k routes that is 10k specs twice. Only for a copy no other thread has seen
   * yet (it is changed in place); does nothing for other kinds.
   */
  public static void shareSpec(HasMetadata previous, HasMetadata echo) {
    Parts<Object> parts = partsOf(echo);
    if (parts != null) {
      parts.setSpec().accept(echo, parts.spec().apply(previous));
    } else if (echo instanceof GenericKubernetesResource g
        && g.getAdditionalProperties().containsKey("spec")) {
      g.getAdditionalProperties().put("spec",
          ((GenericKubernetesResource) previous).getAdditionalProperties().get("spec"));
    }
  }

  /**
   * Returns whether {@code a} and {@code b} are equal but for their status, resourceVersion and
   * managedFields. Objects of different classes, or not Kubernetes objects, are not.
   */
  public static boolean sameButStatus(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null || a.getClass() != b.getClass()
        || !(a instanceof HasMetadata x) || !(b instanceof HasMetadata y)) {
      return false;
    }
    if (!Objects.equals(x.getApiVersion(), y.getApiVersion())
        || !Objects.equals(x.getKind(), y.getKind())
        || !sameButVersion(x.getMetadata(), y.getMetadata())) {
      return false;
    }
    Parts<Object> parts = partsOf(x);
    if (parts != null) {
      return Objects.equals(parts.spec().apply(x), parts.spec().apply(y))
          && Objects.equals(parts.extra().apply(x), parts.extra().apply(y));
    }
    if (x instanceof GenericKubernetesResource g) {
      return sameButStatus(g.getAdditionalProperties(),
          ((GenericKubernetesResource) y).getAdditionalProperties());
    }
    return withoutStatus(x).equals(withoutStatus(y));
  }

  /** The fields of a generic object (spec, status, ...), compared without "status". */
  private static boolean sameButStatus(Map<String, Object> a, Map<String, Object> b) {
    int sizeA = a.size() - (a.containsKey("status") ? 1 : 0);
    int sizeB = b.size() - (b.containsKey("status") ? 1 : 0);
    if (sizeA != sizeB) {
      return false;
    }
    for (Map.Entry<String, Object> field : a.entrySet()) {
      if (!field.getKey().equals("status")
          && !Objects.equals(field.getValue(), b.get(field.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** Metadata compared without resourceVersion and managedFields. */
  private static boolean sameButVersion(ObjectMeta a, ObjectMeta b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    return Objects.equals(a.getName(), b.getName())
        && Objects.equals(a.getNamespace(), b.getNamespace())
        && Objects.equals(a.getUid(), b.getUid())
        && Objects.equals(a.getGeneration(), b.getGeneration())
        && Objects.equals(a.getCreationTimestamp(), b.getCreationTimestamp())
        && Objects.equals(a.getDeletionTimestamp(), b.getDeletionTimestamp())
        && Objects.equals(a.getDeletionGracePeriodSeconds(), b.getDeletionGracePeriodSeconds())
        && Objects.equals(a.getLabels(), b.getLabels())
        && Objects.equals(a.getAnnotations(), b.getAnnotations())
        && Objects.equals(a.getFinalizers(), b.getFinalizers())
        && Objects.equals(a.getOwnerReferences(), b.getOwnerReferences())
        && Objects.equals(a.getGenerateName(), b.getGenerateName())
        && Objects.equals(a.getSelfLink(), b.getSelfLink())
        && Objects.equals(a.getAdditionalProperties(), b.getAdditionalProperties());
  }

  private static JsonNode withoutStatus(Object object) {
    JsonNode tree = SERIALIZATION.convertValue(object, JsonNode.class);
    if (tree instanceof ObjectNode fields) {
      fields.remove("status");
      if (fields.get("metadata") instanceof ObjectNode metadata) {
        metadata.remove("resourceVersion");
        metadata.remove("managedFields");
      }
    }
    return tree;
  }
}
