package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteNamespaces;
import io.portico.status.Conditions;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The attachment rules every route kind shares: whether a listener admits a route (serving,
 * route kind, allowedRoutes.namespaces) and how a parentRef is echoed in route status.
 */
final class ListenerAdmission {

  private ListenerAdmission() {
  }

  /**
   * Returns why {@code listener} refuses a route of {@code kind}, or null when it takes it.
   *
   * <p>Gateway API {@code ListenerStatus.attachedRoutes}: attachment depends only on the
   * listener's allowedRoutes and the route's parentRef; "Listener or Route status does not impact
   * successful attachment". A route attaches to a listener that is Conflicted, on an unavailable
   * port or without a usable certificate (it is counted there, and served once the listener is
   * fixed); only a listener that takes no route kind at all (an unsupported protocol or an
   * invalid value) refuses it, as it allows no kind.
   */
  static String whyNotAllowed(SnapshotIndex index, String kind, String routeNamespace,
      ListenerState listener) {
    if (listener.supportedKinds.isEmpty() && !listener.accepted) {
      return listener.describe() + ", which is not accepted (" + listener.acceptedReason + ")";
    }
    if (!listener.supportsKind(kind)) {
      return listener.describe() + ", which does not allow kind " + kind;
    }
    RouteNamespaces namespaces = listener.spec.getAllowedRoutes() == null
        ? null : listener.spec.getAllowedRoutes().getNamespaces();
    String from = namespaces == null || namespaces.getFrom() == null ? "Same" : namespaces.getFrom();
    // Same means the namespace of the object declaring the listener: a ListenerSet's own.
    String gatewayNamespace = listener.ownerNamespace();
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
  static ParentReference echoParentRef(ParentReference ref, RouteParent parent) {
    ParentReference echo = new ParentReference(); // no builder: one per route and parent
    echo.setGroup(ReferenceGrants.GATEWAY_GROUP);
    echo.setKind(parent.kind());
    echo.setNamespace(parent.namespace());
    echo.setName(ref.getName());
    echo.setSectionName(ref.getSectionName());
    echo.setPort(ref.getPort());
    echo.setAdditionalProperties(Conditions.NO_EXTRA_FIELDS);
    return echo;
  }

  /**
   * Which listeners of one parent Gateway a route attaches to, with the names it serves on
   * each; or why it attaches to none, with the spec's reason.
   *
   * @param hostnames each listener the route attaches to, in the Gateway's listener order, with
   *     the route's hostnames intersected with the listener's
   * @param refusalReason NoMatchingParent, NotAllowedByListeners or NoMatchingListenerHostname;
   *     null when the route attaches
   * @param refusal the message naming the Gateway, listener or hostnames; null when it attaches
   */
  record Match(Map<ListenerState, List<String>> hostnames, String refusalReason, String refusal) {
  }

  /**
   * Matches a route's parentRef against its parent's listeners, as every route kind does:
   * sectionName and port select the candidates among the parent's own listeners (none:
   * NoMatchingParent, also for a ListenerSet its Gateway does not admit), the listeners must
   * admit the route (none: NotAllowedByListeners), and its hostnames must intersect theirs
   * (none: NoMatchingListenerHostname).
   *
   * @param routeHostnames the route's hostnames (empty or null: any), or null with
   *     {@code anyHost} for kinds without hostnames (TCPRoute, UDPRoute)
   * @param anyHost whether the kind takes any host on every listener
   */
  static Match match(SnapshotIndex index, String kind, String routeNamespace, String routeName,
      List<String> routeHostnames, boolean anyHost, ParentReference ref, RouteParent parent) {
    String gatewayName = parent.describe();
    if (parent.listenerSet() != null && !parent.listenerSet().admitted()) {
      return new Match(Map.of(), Conditions.REASON_NO_MATCHING_PARENT, gatewayName
          + " is not attached to its Gateway: " + parent.listenerSet().notAllowed());
    }
    List<ListenerState> candidates = new ArrayList<>();
    for (ListenerState listener : parent.gateway().listeners()) {
      if (!parent.declares(listener)) {
        continue;
      }
      if (ref.getSectionName() != null && !ref.getSectionName().equals(listener.name())) {
        continue;
      }
      if (ref.getPort() != null && ref.getPort() != listener.port()) {
        continue;
      }
      candidates.add(listener);
    }
    if (candidates.isEmpty()) {
      return new Match(Map.of(), Conditions.REASON_NO_MATCHING_PARENT, gatewayName
          + " has no listener"
          + (ref.getSectionName() == null ? "" : " named '" + ref.getSectionName() + "'")
          + (ref.getPort() == null ? "" : " on port " + ref.getPort()));
    }
    List<ListenerState> allowed = new ArrayList<>();
    List<String> notAllowed = new ArrayList<>();
    for (ListenerState listener : candidates) {
      String why = whyNotAllowed(index, kind, routeNamespace, listener);
      if (why == null) {
        allowed.add(listener);
      } else {
        notAllowed.add(why);
      }
    }
    if (allowed.isEmpty()) {
      return new Match(Map.of(), Conditions.REASON_NOT_ALLOWED_BY_LISTENERS,
          routeName + " is not allowed by " + String.join("; ", notAllowed));
    }
    Map<ListenerState, List<String>> hostnames = new LinkedHashMap<>();
    for (ListenerState listener : allowed) {
      List<String> intersection = anyHost ? List.of(Hostnames.ANY)
          : intersect(listener.hostname(), routeHostnames);
      if (!intersection.isEmpty()) {
        hostnames.put(listener, intersection);
      }
    }
    if (hostnames.isEmpty()) {
      return new Match(Map.of(), Conditions.REASON_NO_MATCHING_LISTENER_HOSTNAME,
          "none of the hostnames " + routeHostnames + " of " + routeName
              + " match a hostname of the listeners it may attach to on " + gatewayName);
    }
    return new Match(hostnames, null, null);
  }

  /**
   * The names a route serves on a listener: its hostnames intersected with the listener's
   * (none: the listener's own, or any).
   */
  static List<String> intersect(String listenerHostname, List<String> routeHostnames) {
    Set<String> result = new LinkedHashSet<>();
    if (routeHostnames == null || routeHostnames.isEmpty()) {
      result.add(listenerHostname == null ? Hostnames.ANY
          : listenerHostname.toLowerCase(Locale.ROOT));
    } else {
      for (String hostname : routeHostnames) {
        String intersection = hostname == null ? null
            : Hostnames.intersect(listenerHostname, hostname);
        if (intersection != null) {
          result.add(intersection);
        }
      }
    }
    return List.copyOf(result);
  }
}
