package io.portico.translate;

import io.portico.ir.BackendGroup;
import io.portico.ir.HttpPort;
import io.portico.ir.TrafficPolicy;
import io.portico.ir.UnenforcedPolicy;
import io.portico.resource.ObjectKey;
import io.portico.ir.Listener;
import io.portico.ir.TlsCertificate;
import io.portico.ir.Route;
import io.portico.ir.RoutingTable;
import io.portico.ir.StreamListener;
import io.portico.ir.StreamPort;
import io.portico.ir.StreamProtocol;
import io.portico.ir.StreamRoute;
import io.portico.ir.VirtualHost;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.function.Function;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds the {@link RoutingTable} from the listeners that serve and the route entries attached
 * to them: listeners grouped per port, virtual hosts per intersected hostname, routes sorted by
 * {@link RoutePrecedence}.
 */
final class TableAssembler {

  private TableAssembler() {
  }

  /**
   * @param policies the BackendTrafficPolicy attachments: each rule, as attached to each
   *     listener, gets the most specific one (rules with none keep {@link TrafficPolicy#DEFAULT})
   * @param failClosed the rules a SecurityPolicy targets: their routes answer 500
   */
  static RoutingTable assemble(List<GatewayState> gateways,
      TrafficPolicyPhase.Attachments policies, UnimplementedPolicyPhase.FailClosed failClosed,
      AssembledHosts.Session hosts) {
    // One BackendGroup instance per (rule, effective policy): the proxy keys its per-rule pickers
    // by identity, so a rule served with the same policy on several listeners shares one picker,
    // and a rule that gets different policies on different Gateways/listeners gets one each.
    Map<BackendGroup, Map<TrafficPolicy, BackendGroup>> withPolicy = new IdentityHashMap<>();
    Map<String, Map<Integer, List<Listener>>> byAddress = new TreeMap<>();
    Map<String, Map<String, List<StreamListener>>> streamsByAddress = new TreeMap<>();
    for (GatewayState gateway : gateways) {
      if (!gateway.served()) {
        continue;
      }
      for (ListenerState listener : gateway.listeners()) {
        if (!listener.serving()) {
          continue;
        }
        StreamProtocol stream = streamProtocol(listener);
        if (stream != null) {
          // Keyed "protocol|port" so TCP and UDP listeners on one port number stay apart.
          streamsByAddress.computeIfAbsent(gateway.address(), a -> new TreeMap<>())
              .computeIfAbsent(stream + "|" + listener.port(), p -> new ArrayList<>())
              .add(new StreamListener(listener.irName, listener.source,
                  listener.hostname() == null ? null : listener.hostname().toLowerCase(),
                  ListenerPhase.MODE_TERMINATE.equals(listener.tlsMode) ? listener.tls : null,
                  streamRoutes(gateway, listener, policies, failClosed, withPolicy)));
          continue;
        }
        byAddress.computeIfAbsent(gateway.address(), a -> new TreeMap<>())
            .computeIfAbsent(listener.port(), p -> new ArrayList<>())
            .add(listener(listener, gateway.backendClient().certificate(),
                loadBalancing(gateway, listener, policies, withPolicy),
                unenforced(gateway, listener, failClosed), hosts));
      }
    }
    // HTTPS listeners on a TLS port (compatible, see ListenerPhase): the stream proxy owns the
    // socket and picks among all of them by SNI name, handing the HTTPS ones to the HTTP proxy.
    byAddress.forEach((address, byPort) -> byPort.forEach((port, listeners) -> {
      List<StreamListener> tls = streamsByAddress.getOrDefault(address, Map.of())
          .get(StreamProtocol.TLS + "|" + port);
      if (tls != null) {
        listeners.forEach(https -> tls.add(StreamListener.https(https.name(), https.source(),
            https.hostname())));
      }
    }));
    List<HttpPort> ports = new ArrayList<>();
    byAddress.forEach((address, byPort) -> byPort.forEach((port, listeners) ->
        ports.add(new HttpPort(address, port, listeners))));
    List<StreamPort> streamPorts = new ArrayList<>();
    streamsByAddress.forEach((address, byPort) -> byPort.forEach((key, listeners) -> {
      int bar = key.indexOf('|');
      streamPorts.add(new StreamPort(address, Integer.parseInt(key.substring(bar + 1)),
          StreamProtocol.valueOf(key.substring(0, bar)), listeners));
    }));
    streamPorts.sort(Comparator.comparing(StreamPort::address)
        .thenComparingInt(StreamPort::port).thenComparing(StreamPort::protocol));
    return new RoutingTable(ports, streamPorts);
  }

  /** Returns what a listener is served as below HTTP, or null for HTTP and HTTPS. */
  private static StreamProtocol streamProtocol(ListenerState listener) {
    String protocol = listener.spec.getProtocol();
    return switch (protocol) {
      case "TLS" -> StreamProtocol.TLS;
      case "TCP" -> StreamProtocol.TCP;
      case "UDP" -> StreamProtocol.UDP;
      default -> null;
    };
  }

  /**
   * The listener's TLS/TCP/UDP routes with what applies to them of their BackendTrafficPolicy
   * (narrowed to a stream's settings) and of an unenforceable SecurityPolicy (fail closed).
   */
  private static List<StreamRoute> streamRoutes(GatewayState gateway, ListenerState listener,
      TrafficPolicyPhase.Attachments policies, UnimplementedPolicyPhase.FailClosed failClosed,
      Map<BackendGroup, Map<TrafficPolicy, BackendGroup>> withPolicy) {
    ObjectKey gatewayKey = gatewayKey(gateway);
    ObjectKey listenerSet = listenerSet(listener);
    List<StreamRoute> routes = new ArrayList<>();
    for (StreamRoute route : listener.streamRoutes) {
      ObjectKey routeKey = new ObjectKey(route.source().kind(), route.source().namespace(),
          route.source().name());
      TrafficPolicy policy = policies.effective(gatewayKey, listenerSet, listener.name(),
          routeKey, 0);
      BackendGroup backends = policy == null ? route.backends()
          : withPolicy.computeIfAbsent(route.backends(), g -> new IdentityHashMap<>())
              .computeIfAbsent(StreamPolicyScope.narrow(policy, routeKey.kind()),
                  p -> route.backends().withTraffic(p));
      UnenforcedPolicy unenforced = failClosed == UnimplementedPolicyPhase.FailClosed.NONE ? null
          : failClosed.of(gatewayKey, listenerSet, listener.name(), routeKey, 0);
      routes.add(new StreamRoute(route.name(), route.source(), route.hostnames(), backends,
          unenforced));
    }
    return routes;
  }

  private static Function<RouteEntry, BackendGroup> loadBalancing(GatewayState gateway,
      ListenerState listener, TrafficPolicyPhase.Attachments policies,
      Map<BackendGroup, Map<TrafficPolicy, BackendGroup>> withPolicy) {
    if (policies.isEmpty()) {
      return RouteEntry::backends; // no policy: no four lookup keys built per route entry
    }
    ObjectKey gatewayKey = gatewayKey(gateway);
    ObjectKey listenerSet = listenerSet(listener);
    return entry -> {
      TrafficPolicy policy = policies.effective(gatewayKey, listenerSet, listener.name(),
          routeKey(entry), entry.ruleIndex());
      return policy == null ? entry.backends()
          : withPolicy.computeIfAbsent(entry.backends(), g -> new IdentityHashMap<>())
              .computeIfAbsent(policy, p -> entry.backends().withTraffic(p));
    };
  }

  private static Function<RouteEntry, UnenforcedPolicy> unenforced(GatewayState gateway,
      ListenerState listener, UnimplementedPolicyPhase.FailClosed failClosed) {
    if (failClosed == UnimplementedPolicyPhase.FailClosed.NONE) {
      return entry -> null; // No SecurityPolicy: no key per route entry to build.
    }
    ObjectKey gatewayKey = gatewayKey(gateway);
    ObjectKey listenerSet = listenerSet(listener);
    return entry -> failClosed.of(gatewayKey, listenerSet, listener.name(), routeKey(entry),
        entry.ruleIndex());
  }

  private static ObjectKey gatewayKey(GatewayState gateway) {
    return new ObjectKey("Gateway", gateway.gateway().getMetadata().getNamespace(),
        gateway.gateway().getMetadata().getName());
  }

  private static ObjectKey routeKey(RouteEntry entry) {
    return new ObjectKey(entry.source().kind(), entry.route().getMetadata().getNamespace(),
        entry.route().getMetadata().getName());
  }

  /**
   * The ListenerSet that contributed the listener, or null for the Gateway's own: policies
   * reach its listeners through it, never through a Gateway sectionName.
   */
  private static ObjectKey listenerSet(ListenerState listener) {
    return listener.listenerSet == null ? null : ObjectKey.of(listener.listenerSet);
  }

  private static Listener listener(ListenerState listener, TlsCertificate backendClient,
      Function<RouteEntry, BackendGroup> loadBalancing,
      Function<RouteEntry, UnenforcedPolicy> unenforced, AssembledHosts.Session hosts) {
    ListenerHosts virtualHosts = hosts.hosts(listener.position, listener.routes,
        (pattern, entries) -> virtualHost(pattern, entries, loadBalancing, unenforced));
    String hostname = listener.hostname() == null ? null : listener.hostname().toLowerCase();
    return new Listener(listener.irName, listener.source, hostname, listener.tls,
        listener.clientValidation, backendClient, virtualHosts.virtualHosts(),
        virtualHosts.index());
  }

  /**
   * A virtual host holds every entry one of whose hostnames covers its pattern: a request for
   * {@code a.example.com} tries routes written for {@code a.example.com} first, then those for
   * {@code *.example.com}, then those for any host.
   */
  private static VirtualHost virtualHost(String pattern, List<RouteEntry> entries,
      Function<RouteEntry, BackendGroup> loadBalancing,
      Function<RouteEntry, UnenforcedPolicy> unenforced) {
    List<RoutePrecedence.Candidate> candidates = new ArrayList<>();
    for (RouteEntry entry : entries) {
      String best = null;
      for (String hostname : entry.hostnames()) {
        if (Hostnames.covers(hostname, pattern)
            && (best == null || Hostnames.specificity(hostname) > Hostnames.specificity(best))) {
          best = hostname;
        }
      }
      if (best != null) {
        candidates.add(new RoutePrecedence.Candidate(entry, best));
      }
    }
    candidates.sort(RoutePrecedence.ORDER);
    List<Route> routes = new ArrayList<>();
    for (RoutePrecedence.Candidate candidate : candidates) {
      RouteEntry entry = candidate.entry();
      routes.add(new Route(entry.name(), entry.source(), entry.match(),
          loadBalancing.apply(entry), entry.filters(), unenforced.apply(entry)));
    }
    return new VirtualHost(pattern, routes);
  }
}
