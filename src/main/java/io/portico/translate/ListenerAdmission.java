package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteNamespaces;

/**
 * The attachment rules every route kind shares: whether a listener admits a route (serving,
 * route kind, allowedRoutes.namespaces) and how a parentRef is echoed in route status.
 */
final class ListenerAdmission {

  private ListenerAdmission() {
  }

  /** Returns why {@code listener} refuses a route of {@code kind}, or null when it takes it. */
  static String whyNotAllowed(SnapshotIndex index, String kind, String routeNamespace,
      ListenerState listener) {
    if (!listener.serving()) {
      return listener.describe() + " is not accepted";
    }
    if (!listener.supportsKind(kind)) {
      return listener.describe() + ", which does not allow kind " + kind;
    }
    RouteNamespaces namespaces = listener.spec.getAllowedRoutes() == null
        ? null : listener.spec.getAllowedRoutes().getNamespaces();
    String from = namespaces == null || namespaces.getFrom() == null ? "Same" : namespaces.getFrom();
    String gatewayNamespace = listener.gateway.getMetadata().getNamespace();
    switch (from) {
      case "All":
        return null;
      case "Selector":
        if (LabelSelectors.matches(namespaces.getSelector(), index.namespaceLabels(routeNamespace))) {
          return null;
        }
        return listener.describe() + ", which takes routes only from namespaces matching its "
            + "allowedRoutes.namespaces.selector; namespace " + routeNamespace + " does not match "
            + "(label the namespace, or change the selector)";
      default:
        if (routeNamespace.equals(gatewayNamespace)) {
          return null;
        }
        return listener.describe() + ", which takes routes only from its own namespace "
            + gatewayNamespace + " (allowedRoutes.namespaces.from: Same), and the route is in "
            + routeNamespace + "; set allowedRoutes.namespaces.from: All (or Selector) on the "
            + "listener, or move the route to " + gatewayNamespace;
    }
  }

  /**
   * Status parentRef: the route's own reference with group, kind and namespace filled in, as
   * clients compare them explicitly.
   */
  static ParentReference echoParentRef(ParentReference ref, Gateway gateway) {
    return new ParentReferenceBuilder()
        .withGroup(ReferenceGrants.GATEWAY_GROUP)
        .withKind("Gateway")
        .withNamespace(gateway.getMetadata().getNamespace())
        .withName(ref.getName())
        .withSectionName(ref.getSectionName())
        .withPort(ref.getPort())
        .build();
  }
}
