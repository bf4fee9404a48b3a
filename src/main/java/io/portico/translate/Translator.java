package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.ir.RoutingTable;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.status.Conditions;
import io.portico.status.StatusReport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Translates a {@link ResourceSnapshot} into the {@link RoutingTable} the proxies serve and the
 * {@link StatusReport} of every object Portico owns. A pure function: no I/O, no Vert.x, no
 * mutation of its input. User mistakes become status conditions; an exception from here is a
 * bug in Portico.
 *
 * <p>The phases run in a fixed order because each needs the previous one's result:
 * GatewayClasses decide which Gateways are ours, listeners must be validated before routes can
 * attach, and listener status needs the attached-route counts.
 */
public final class Translator {

  private final TranslatorOptions options;

  public Translator(TranslatorOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  public Translation translate(ResourceSnapshot snapshot) {
    Objects.requireNonNull(snapshot, "snapshot");
    SnapshotIndex index = new SnapshotIndex(snapshot);

    Map<ObjectKey, GatewayClassStatus> classStatus = new TreeMap<>();
    Set<String> ourClasses = new HashSet<>();
    for (GatewayClass gatewayClass : snapshot.gatewayClasses()) {
      if (gatewayClass.getSpec() == null
          || !options.controllerName().equals(gatewayClass.getSpec().getControllerName())) {
        continue;
      }
      ourClasses.add(gatewayClass.getMetadata().getName());
      classStatus.put(ObjectKey.of(gatewayClass), new GatewayClassStatusBuilder()
          .withConditions(Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
              "GatewayClass is accepted by " + options.controllerName(),
              SnapshotIndex.generation(gatewayClass)))
          .build());
    }

    List<Gateway> gateways = new ArrayList<>();
    for (Gateway gateway : snapshot.gateways()) {
      if (gateway.getSpec() != null && ourClasses.contains(gateway.getSpec().getGatewayClassName())) {
        gateways.add(gateway);
      }
    }
    SnapshotIndex.sortOldestFirst(gateways);
    Map<Gateway, GatewayAddressCheck> checks = new HashMap<>();
    for (Gateway gateway : gateways) {
      checks.put(gateway, GatewayAddressCheck.of(gateway, options.addressUsable()));
    }
    Map<Gateway, String> addresses = options.addressPool() == null
        ? Map.of() : AddressPool.parse(options.addressPool()).assign(gateways, checks);
    List<GatewayState> gatewayStates = ListenerPhase.process(index, gateways, addresses, checks);

    List<HTTPRoute> routes = new ArrayList<>(snapshot.httpRoutes());
    SnapshotIndex.sortOldestFirst(routes);
    Map<ObjectKey, HTTPRouteStatus> routeStatus =
        new HttpRoutePhase(index, gatewayStates, options.controllerName()).process(routes);

    Map<ObjectKey, GatewayStatus> gatewayStatus = new TreeMap<>();
    for (GatewayState state : gatewayStates) {
      gatewayStatus.put(ObjectKey.of(state.gateway()),
          GatewayStatusPhase.build(state, options.gatewayAddress()));
    }
    TrafficPolicyPhase.Result traffic = TrafficPolicyPhase.process(
        sortedOldestFirst(snapshot.backendTrafficPolicies()), routes, routeStatus, gatewayStates,
        snapshot.gateways(), options.controllerName());
    UnimplementedPolicyPhase.Result unimplemented = UnimplementedPolicyPhase.process(
        sortedOldestFirst(snapshot.unimplementedPolicies()), routes, routeStatus, gatewayStates,
        snapshot.gateways(), options.controllerName());
    RoutingTable table = TableAssembler.assemble(gatewayStates, traffic.attachments(),
        unimplemented.failClosed());
    // Which Gateways use each Service matters only to BackendTLSPolicy status: not worth a pass
    // over every route's backendRefs (a third of translation at 5k routes) when there is none.
    Map<ObjectKey, PolicyStatus> policyStatus = snapshot.backendTLSPolicies().isEmpty()
        ? Map.of()
        : BackendTlsPhase.status(snapshot, BackendTlsPhase.resolve(snapshot),
            gatewaysByService(routes, routeStatus), options.controllerName());
    return new Translation(table, new StatusReport(new TreeMap<>(classStatus),
        new TreeMap<>(gatewayStatus), new TreeMap<>(routeStatus), new TreeMap<>(policyStatus),
        new TreeMap<>(traffic.status()), new TreeMap<>(unimplemented.status())));
  }

  /**
   * Returns whether {@code a} and {@code b} translate to the same table and status: they differ
   * at most in EndpointSlices and in the spec of Envoy Gateway Backends. The translator never
   * reads EndpointSlices, and of a Backend only whether it exists (its endpoints are
   * {@link EndpointsBuilder}'s), so a pod that starts or stops can skip translation and publish
   * new endpoints alone (the endpoint fast path). A Service that appears, disappears or changes
   * its ports is not such a change: it can change a route's {@code ResolvedRefs}.
   *
   * <p>Cheap when the providers keep unchanged objects as the same instances (both do): the
   * lists are compared element by element, and fabric8's {@code equals} returns at once on
   * identity.
   */
  public static boolean sameTranslation(ResourceSnapshot a, ResourceSnapshot b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    return a.httpRoutes().equals(b.httpRoutes())
        && a.services().equals(b.services())
        && a.gateways().equals(b.gateways())
        && a.gatewayClasses().equals(b.gatewayClasses())
        && a.referenceGrants().equals(b.referenceGrants())
        && a.secrets().equals(b.secrets())
        && a.configMaps().equals(b.configMaps())
        && a.namespaces().equals(b.namespaces())
        && a.backendTLSPolicies().equals(b.backendTLSPolicies())
        && a.backendTrafficPolicies().equals(b.backendTrafficPolicies())
        && a.unimplementedPolicies().equals(b.unimplementedPolicies())
        && backendKeys(a).equals(backendKeys(b));
  }

  private static Set<ObjectKey> backendKeys(ResourceSnapshot snapshot) {
    Set<ObjectKey> keys = new HashSet<>();
    snapshot.backends().forEach(backend -> keys.add(ObjectKey.of(backend)));
    return keys;
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> List<T> sortedOldestFirst(
      List<T> objects) {
    List<T> sorted = new ArrayList<>(objects);
    SnapshotIndex.sortOldestFirst(sorted);
    return sorted;
  }

  private static Set<ObjectKey> acceptingGateways(HTTPRoute route, HTTPRouteStatus status) {
    Set<ObjectKey> gateways = new TreeSet<>();
    if (status == null || status.getParents() == null) {
      return gateways;
    }
    String namespace = route.getMetadata().getNamespace();
    for (RouteParentStatus parent : status.getParents()) {
      boolean accepted = parent.getConditions() != null && parent.getConditions().stream()
          .anyMatch(c -> Conditions.ACCEPTED.equals(c.getType()) && "True".equals(c.getStatus()));
      ParentReference ref = parent.getParentRef();
      if (accepted && ref != null) {
        gateways.add(new ObjectKey("Gateway",
            ref.getNamespace() == null ? namespace : ref.getNamespace(), ref.getName()));
      }
    }
    return gateways;
  }

  /**
   * Returns, per Service ("namespace/name"), the Gateways that accepted a route referring to it:
   * the ancestors a BackendTLSPolicy on that Service reports status for.
   */
  private static Map<String, Set<ObjectKey>> gatewaysByService(List<HTTPRoute> routes,
      Map<ObjectKey, HTTPRouteStatus> routeStatus) {
    Map<String, Set<ObjectKey>> result = new HashMap<>();
    for (HTTPRoute route : routes) {
      HTTPRouteStatus status = routeStatus.get(ObjectKey.of(route));
      String namespace = route.getMetadata().getNamespace();
      if (status == null || status.getParents() == null || route.getSpec() == null
          || route.getSpec().getRules() == null) {
        continue;
      }
      Set<ObjectKey> gateways = acceptingGateways(route, status);
      for (HTTPRouteRule rule : route.getSpec().getRules()) {
        if (rule.getBackendRefs() == null) {
          continue;
        }
        for (HTTPBackendRef ref : rule.getBackendRefs()) {
          boolean service = (ref.getGroup() == null || ref.getGroup().isEmpty())
              && (ref.getKind() == null || "Service".equals(ref.getKind()));
          if (service && ref.getName() != null) {
            String refNamespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
                ? namespace : ref.getNamespace();
            result.computeIfAbsent(refNamespace + "/" + ref.getName(), k -> new TreeSet<>())
                .addAll(gateways);
          }
        }
      }
    }
    return result;
  }
}
