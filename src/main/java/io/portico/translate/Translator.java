package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TCPRouteStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSRouteStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRouteStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.UDPRouteStatusBuilder;
import io.portico.ir.RoutingTable;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.StatusEchoes;
import io.portico.status.Conditions;
import io.portico.status.StatusReport;

import io.fabric8.kubernetes.api.model.HasMetadata;

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
  /**
   * Routes compiled by the last translation, reused while nothing they depend on changed: the
   * output is what a translation from scratch gives (TranslatorIncrementalTest checks it).
   */
  private final CompiledRoutes compiledRoutes = new CompiledRoutes();
  /** Routes attached by the last translation, reused likewise (see {@link AttachedRoutes}). */
  private final AttachedRoutes attachedRoutes = new AttachedRoutes();
  /** Virtual hosts built by the last translation, reused likewise (see {@link AssembledHosts}). */
  private final AssembledHosts assembledHosts = new AssembledHosts();
  /** The last translation's HTTPRoutes and GRPCRoutes, oldest first (see {@link RouteOrder}). */
  private final RouteOrder routeOrder = new RouteOrder();

  public Translator(TranslatorOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  public Translation translate(ResourceSnapshot snapshot) {
    Objects.requireNonNull(snapshot, "snapshot");
    SnapshotIndex index = new SnapshotIndex(snapshot);
    CompiledRoutes.Session compiled = compiledRoutes.begin(snapshot);
    AttachedRoutes.Session attached = attachedRoutes.begin(compiled.reusing(),
        !snapshot.httpRoutes().isEmpty() && !snapshot.grpcRoutes().isEmpty());

    Map<ObjectKey, GatewayClassStatus> classStatus = new TreeMap<>();
    Set<String> ourClasses = new HashSet<>();
    for (GatewayClass gatewayClass : snapshot.gatewayClasses()) {
      if (gatewayClass.getSpec() == null
          || !options.controllerName().equals(gatewayClass.getSpec().getControllerName())) {
        continue;
      }
      // A class Portico cannot accept takes no Gateways: they are left alone, as by a controller
      // that does not own them.
      String invalidParameters = Parameters.invalid(gatewayClass);
      if (invalidParameters == null) {
        ourClasses.add(gatewayClass.getMetadata().getName());
      }
      classStatus.put(ObjectKey.of(gatewayClass), new GatewayClassStatusBuilder()
          .withConditions(invalidParameters == null
              ? Conditions.of(Conditions.ACCEPTED, true, Conditions.REASON_ACCEPTED,
                  "GatewayClass is accepted by " + options.controllerName(),
                  SnapshotIndex.generation(gatewayClass))
              : Conditions.of(Conditions.ACCEPTED, false, Parameters.REASON_INVALID_PARAMETERS,
                  invalidParameters, SnapshotIndex.generation(gatewayClass)))
          .withSupportedFeatures(SupportedFeatures.SORTED.stream()
              .map(io.fabric8.kubernetes.api.model.gatewayapi.v1.SupportedFeature::new).toList())
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
    // ListenerSets first: the listeners of those a Gateway admits are validated with its own.
    ListenerSets listenerSets = ListenerSets.attach(index, snapshot.listenerSets(), gateways);
    List<GatewayState> gatewayStates = ListenerPhase.process(index, gateways, addresses, checks,
        listenerSets.admittedByGateway());
    RouteParent.Resolver routeParents = new RouteParent.Resolver(gatewayStates, listenerSets);

    // HttpRoutePhase orders HTTPRoutes and GRPCRoutes oldest first itself.
    List<HTTPRoute> routes = snapshot.httpRoutes();
    HttpRoutePhase.Result httpPhase = new HttpRoutePhase(index, gatewayStates, routeParents,
        options.controllerName(), compiled, attached, routeOrder)
        .process(routes, snapshot.grpcRoutes());
    Map<ObjectKey, HTTPRouteStatus> routeStatus = httpPhase.httpRoutes();

    // Before Gateway status: listener attachedRoutes counts these routes too.
    StreamRoutePhase streams = new StreamRoutePhase(index, routeParents, options.controllerName());
    List<StreamRoutePhase.Spec> tlsRoutes = streamSpecs(snapshot.tlsRoutes(), StreamRoutePhase.Spec::of);
    List<StreamRoutePhase.Spec> tcpRoutes = streamSpecs(snapshot.tcpRoutes(), StreamRoutePhase.Spec::of);
    List<StreamRoutePhase.Spec> udpRoutes = streamSpecs(snapshot.udpRoutes(), StreamRoutePhase.Spec::of);
    Map<ObjectKey, List<RouteParentStatus>> tlsParents = streams.process(tlsRoutes);
    Map<ObjectKey, List<RouteParentStatus>> tcpParents = streams.process(tcpRoutes);
    Map<ObjectKey, List<RouteParentStatus>> udpParents = streams.process(udpRoutes);
    Map<ObjectKey, TLSRouteStatus> tlsRouteStatus = new TreeMap<>();
    tlsParents.forEach((key, parents) -> tlsRouteStatus.put(key,
        new TLSRouteStatusBuilder().withParents(parents).build()));
    Map<ObjectKey, TCPRouteStatus> tcpRouteStatus = new TreeMap<>();
    tcpParents.forEach((key, parents) -> tcpRouteStatus.put(key,
        new TCPRouteStatusBuilder().withParents(parents).build()));
    Map<ObjectKey, UDPRouteStatus> udpRouteStatus = new TreeMap<>();
    udpParents.forEach((key, parents) -> udpRouteStatus.put(key,
        new UDPRouteStatusBuilder().withParents(parents).build()));

    Map<ObjectKey, GatewayStatus> gatewayStatus = new TreeMap<>();
    for (GatewayState state : gatewayStates) {
      gatewayStatus.put(ObjectKey.of(state.gateway()),
          GatewayStatusPhase.build(state, options.gatewayAddress()));
    }
    // After the Gateways' status (which decides ParentNotAccepted) and every route kind
    // (attachedRoutes); sets each Gateway's status.attachedListenerSets.
    Map<ObjectKey, ListenerSetStatus> listenerSetStatus =
        listenerSets.status(gatewayStates, gatewayStatus);
    // Policies attach to the rules of every route kind (on TLS, TCP and UDP routes only the
    // fields that apply to a stream, see StreamPolicyScope).
    List<io.fabric8.kubernetes.api.model.HasMetadata> policyRoutes = new ArrayList<>(routes);
    policyRoutes.addAll(snapshot.grpcRoutes());
    policyRoutes.addAll(snapshot.tlsRoutes());
    policyRoutes.addAll(snapshot.tcpRoutes());
    policyRoutes.addAll(snapshot.udpRoutes());
    Map<ObjectKey, List<RouteParentStatus>> grpcParents = grpcParents(httpPhase.grpcRoutes());
    // Only policies look routes' parents up: not worth a map of 10k routes when there is none.
    Map<ObjectKey, List<RouteParentStatus>> httpParents = new HashMap<>();
    if (!snapshot.backendTrafficPolicies().isEmpty()
        || !snapshot.unimplementedPolicies().isEmpty()) {
      routeStatus.forEach((key, status) -> httpParents.put(key, status.getParents()));
      httpParents.putAll(grpcParents);
      httpParents.putAll(tlsParents);
      httpParents.putAll(tcpParents);
      httpParents.putAll(udpParents);
    }
    PolicyTargets policyTargets = new PolicyTargets(policyRoutes, httpParents, gatewayStates,
        snapshot.gateways(), snapshot.listenerSets(), listenerSetStatus);
    TrafficPolicyPhase.Result traffic = TrafficPolicyPhase.process(
        sortedOldestFirst(snapshot.backendTrafficPolicies()), policyTargets,
        options.controllerName());
    UnimplementedPolicyPhase.Result unimplemented = UnimplementedPolicyPhase.process(
        sortedOldestFirst(snapshot.unimplementedPolicies()), policyTargets,
        options.controllerName());
    AssembledHosts.Session hosts = assembledHosts.begin(compiled.reusing(),
        !traffic.attachments().isEmpty()
            || unimplemented.failClosed() != UnimplementedPolicyPhase.FailClosed.NONE);
    RoutingTable table = TableAssembler.assemble(gatewayStates, traffic.attachments(),
        unimplemented.failClosed(), hosts);
    // Which Gateways use each Service matters only to BackendTLSPolicy status: not worth a pass
    // over every route's backendRefs (a third of translation at 5k routes) when there is none.
    Map<ObjectKey, PolicyStatus> policyStatus;
    if (snapshot.backendTLSPolicies().isEmpty()) {
      policyStatus = Map.of();
    } else {
      Map<String, Set<ObjectKey>> gatewaysByService = gatewaysByService(routes, routeStatus);
      addStreamRouteGateways(gatewaysByService, tlsRoutes, tlsParents);
      addStreamRouteGateways(gatewaysByService, tcpRoutes, tcpParents);
      addStreamRouteGateways(gatewaysByService, grpcSpecs(snapshot.grpcRoutes()), grpcParents);
      policyStatus = BackendTlsPhase.status(snapshot, BackendTlsPhase.resolve(snapshot),
          gatewaysByService, options.controllerName());
    }
    compiled.next();
    hosts.next();
    attached.next(httpPhase.httpRoutes(), httpPhase.grpcRoutes());
    return new Translation(table, new StatusReport(new TreeMap<>(classStatus),
        new TreeMap<>(gatewayStatus), new TreeMap<>(routeStatus), new TreeMap<>(policyStatus),
        new TreeMap<>(traffic.status()), new TreeMap<>(unimplemented.status()),
        new TreeMap<>(tlsRouteStatus),
        new TreeMap<>(tcpRouteStatus), new TreeMap<>(udpRouteStatus),
        new TreeMap<>(listenerSetStatus), new TreeMap<>(httpPhase.grpcRoutes())));
  }

  /** How many HTTPRoutes and GRPCRoutes were compiled rather than reused; for tests. */
  long routeCompilations() {
    return compiledRoutes.compilations();
  }

  /** How many virtual hosts were built rather than reused; for tests. */
  long virtualHostBuilds() {
    return assembledHosts.builds();
  }

  /** How many HTTPRoutes and GRPCRoutes were attached rather than reused; for tests. */
  long routeAttachments() {
    return attachedRoutes.attachments();
  }

  private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> List<StreamRoutePhase.Spec>
      streamSpecs(List<T> routes, java.util.function.Function<T, StreamRoutePhase.Spec> spec) {
    List<StreamRoutePhase.Spec> specs = new ArrayList<>();
    for (T route : sortedOldestFirst(routes)) {
      specs.add(spec.apply(route));
    }
    return specs;
  }

  /**
   * Returns whether {@code a} and {@code b} translate to the same table and status: they differ
   * at most in EndpointSlices and in the spec of Envoy Gateway Backends. The translator never
   * reads EndpointSlices, and of a Backend only whether it exists (its endpoints are
   * {@link EndpointsBuilder}'s), so a pod that starts or stops can skip translation and publish
   * new endpoints alone (the endpoint fast path). A Service that appears, disappears or changes
   * its ports is not such a change: it can change a route's {@code ResolvedRefs}.
   *
   * <p>Objects that differ only in their status (and resourceVersion, managedFields) are the
   * same translation too: the translator reads no status, and in Kubernetes mode every status
   * Portico writes comes back as such a copy.
   *
   * <p>Cheap when the providers keep unchanged objects as the same instances (both do): the
   * lists are compared element by element, and fabric8's {@code equals} returns at once on
   * identity.
   */
  public static boolean sameTranslation(ResourceSnapshot a, ResourceSnapshot b) {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    // Every kind but endpoints.
    if (!ResourceSnapshot.kindsAlike(a, b, ENDPOINT_COMPONENTS, Translator::sameInputs)) {
      return false;
    }
    return backendKeys(a).equals(backendKeys(b));
  }

  /**
   * Returns whether two lists hold the same objects as far as translation goes: equal, or
   * differing only in what the translator never reads, their status and the bookkeeping an API
   * server changes with it (resourceVersion, managedFields). In Kubernetes mode each status
   * Portico writes comes back as a new copy of the object; translating 10k routes again for
   * each such echo kept translations running back to back while statuses were written, and
   * delayed every other change behind them (bench/scale.py --provider kubernetes).
   */
  static boolean sameInputs(List<?> a, List<?> b) {
    if (a == b) {
      return true;
    }
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      Object x = a.get(i);
      Object y = b.get(i);
      if (x != y && !x.equals(y) && !StatusEchoes.sameButStatus(x, y)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The snapshot's endpoint data: EndpointSlices, and Backends (whose endpoints are compared by
   * the endpoints index; only which Backends exist matters to translation).
   */
  static final Set<String> ENDPOINT_COMPONENTS = Set.of("endpointSlices", "backends");

  /** Which Backends the snapshot has (their endpoints aside). */
  static Set<ObjectKey> backendKeys(ResourceSnapshot snapshot) {
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
      boolean accepted = Conditions.isTrue(parent.getConditions(), Conditions.ACCEPTED);
      ParentReference ref = parent.getParentRef();
      if (accepted && ref != null) {
        gateways.add(new ObjectKey(ref.getKind() == null ? "Gateway" : ref.getKind(),
            ref.getNamespace() == null ? namespace : ref.getNamespace(), ref.getName()));
      }
    }
    return gateways;
  }

  /** GRPCRoutes as far as BackendTLSPolicy ancestors go: parents and backendRefs. */
  private static List<StreamRoutePhase.Spec> grpcSpecs(List<GRPCRoute> routes) {
    List<StreamRoutePhase.Spec> specs = new ArrayList<>();
    for (GRPCRoute route : routes) {
      specs.add(new StreamRoutePhase.Spec(route, "GRPCRoute", null, List.of(),
          GrpcRuleCompiler.backendRefs(route)));
    }
    return specs;
  }

  private static Map<ObjectKey, List<RouteParentStatus>> grpcParents(
      Map<ObjectKey, GRPCRouteStatus> status) {
    Map<ObjectKey, List<RouteParentStatus>> parents = new HashMap<>();
    status.forEach((key, value) -> parents.put(key, value.getParents()));
    return parents;
  }

  /**
   * Adds the Gateways that accepted a TLSRoute, TCPRoute or GRPCRoute to its backend Services.
   */
  private static void addStreamRouteGateways(Map<String, Set<ObjectKey>> result,
      List<StreamRoutePhase.Spec> routes, Map<ObjectKey, List<RouteParentStatus>> parents) {
    for (StreamRoutePhase.Spec route : routes) {
      List<RouteParentStatus> statuses = parents.get(ObjectKey.of(route.route()));
      if (statuses == null) {
        continue;
      }
      Set<ObjectKey> gateways = new TreeSet<>();
      for (RouteParentStatus parent : statuses) {
        boolean accepted = Conditions.isTrue(parent.getConditions(), Conditions.ACCEPTED);
        if (accepted) {
          gateways.add(new ObjectKey(parent.getParentRef().getKind(),
              parent.getParentRef().getNamespace(), parent.getParentRef().getName()));
        }
      }
      for (List<io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef> rule : route.rules()) {
        for (var ref : rule) {
          boolean service = ref != null && (ref.getGroup() == null || ref.getGroup().isEmpty())
              && (ref.getKind() == null || "Service".equals(ref.getKind()));
          if (service && ref.getName() != null) {
            String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
                ? route.namespace() : ref.getNamespace();
            result.computeIfAbsent(namespace + "/" + ref.getName(), k -> new TreeSet<>())
                .addAll(gateways);
          }
        }
      }
    }
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
