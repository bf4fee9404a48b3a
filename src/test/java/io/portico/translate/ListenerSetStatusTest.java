package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerEntryStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.ir.HttpPort;
import io.portico.resource.ObjectKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ListenerSet status (GEP-1713), one row per condition reason: the ListenerSet's own
 * Accepted/Programmed, its listener entries, the Gateway's attachedListenerSets, and the status
 * of routes whose parentRef is a ListenerSet.
 */
class ListenerSetStatusTest {

  @TempDir
  static Path directory;

  private static final String CLASS = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      apiVersion: v1
      kind: Namespace
      metadata: {name: team, labels: {listeners: allowed}}
      ---
      apiVersion: v1
      kind: Namespace
      metadata: {name: other}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {ports: [{port: 8080}]}
      ---
      """;

  /** A Gateway "gw" in default with one HTTP listener on 80 and the given allowedListeners. */
  private static String gateway(String allowedListeners, String extraSpec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          %s
          %s
          listeners:
          - {name: http, protocol: HTTP, port: 80, hostname: gw.example.com}
        ---
        """.formatted(allowedListeners == null ? "" : "allowedListeners: " + allowedListeners,
        extraSpec == null ? "" : extraSpec);
  }

  /** A ListenerSet "ls" of Gateway default/gw, created at {@code minute}. */
  private static String listenerSet(String namespace, String name, int minute, String listeners) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: %s, namespace: %s, creationTimestamp: "2026-01-01T00:%02d:00Z"}
        spec:
          parentRef: {name: gw, namespace: default}
          listeners:
        %s
        ---
        """.formatted(name, namespace, minute, listeners.indent(2).stripTrailing());
  }

  private static final String ONE_HTTP =
      "- {name: extra, protocol: HTTP, port: 80, hostname: ls.example.com}";

  static Stream<Arguments> listenerSetConditions() {
    return Stream.of(
        // name, yaml, ListenerSet ns/name, Accepted status/reason, Programmed status/reason
        Arguments.of("no allowedListeners: NotAllowed",
            gateway(null, null) + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "False", "NotAllowed", "False", "NotAllowed"),
        Arguments.of("from None: NotAllowed",
            gateway("{namespaces: {from: None}}", null) + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "False", "NotAllowed", "False", "NotAllowed"),
        Arguments.of("from Same, other namespace: NotAllowed",
            gateway("{namespaces: {from: Same}}", null) + listenerSet("other", "ls", 1, ONE_HTTP),
            "other/ls", "False", "NotAllowed", "False", "NotAllowed"),
        Arguments.of("from Selector, namespace not matching: NotAllowed",
            gateway("{namespaces: {from: Selector, selector: {matchLabels: {listeners: allowed}}}}",
                null) + listenerSet("other", "ls", 1, ONE_HTTP),
            "other/ls", "False", "NotAllowed", "False", "NotAllowed"),
        Arguments.of("from Selector, namespace matching: Accepted",
            gateway("{namespaces: {from: Selector, selector: {matchLabels: {listeners: allowed}}}}",
                null) + listenerSet("team", "ls", 1, ONE_HTTP),
            "team/ls", "True", "Accepted", "True", "Programmed"),
        Arguments.of("from All: Accepted",
            gateway("{namespaces: {from: All}}", null) + listenerSet("other", "ls", 1, ONE_HTTP),
            "other/ls", "True", "Accepted", "True", "Programmed"),
        Arguments.of("from Same, same namespace: Accepted",
            gateway("{namespaces: {from: Same}}", null) + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "True", "Accepted", "True", "Programmed"),
        Arguments.of("parent Gateway not accepted: ParentNotAccepted",
            gateway("{namespaces: {from: Same}}",
                "addresses: [{type: test/fake-invalid-type, value: x}]")
                + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "False", "ParentNotAccepted", "False", "ParentNotProgrammed"),
        Arguments.of("every listener conflicted: ListenersNotValid",
            gateway("{namespaces: {from: Same}}", null) + listenerSet("default", "ls", 1,
                "- {name: http, protocol: HTTP, port: 80, hostname: gw.example.com}"),
            "default/ls", "False", "ListenersNotValid", "False", "ListenersNotValid"),
        Arguments.of("some listeners invalid: Accepted with ListenersNotValid, Programmed",
            gateway("{namespaces: {from: Same}}", null) + listenerSet("default", "ls", 1,
                ONE_HTTP + "\n- {name: tcp, protocol: TCP, port: 80}"),
            "default/ls", "True", "ListenersNotValid", "True", "Programmed"),
        Arguments.of("unsupported protocol only: ListenersNotValid",
            gateway("{namespaces: {from: Same}}", null) + listenerSet("default", "ls", 1,
                "- {name: sctp, protocol: example.com/sctp, port: 90}"),
            "default/ls", "False", "ListenersNotValid", "False", "ListenersNotValid"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("listenerSetConditions")
  void listenerSetConditions(String name, String yaml, String listenerSet, String accepted,
      String acceptedReason, String programmed, String programmedReason) throws IOException {
    ListenerSetStatus status = listenerSetStatus(translate(yaml), listenerSet);
    assertThat(condition(status.getConditions(), "Accepted"))
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly(accepted, acceptedReason);
    assertThat(condition(status.getConditions(), "Programmed"))
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly(programmed, programmedReason);
    assertThat(status.getConditions()).allMatch(c -> c.getObservedGeneration() == 1L);
  }

  static Stream<Arguments> listenerEntryConditions() {
    String sameNamespace = gateway("{namespaces: {from: Same}}", null);
    return Stream.of(
        // name, yaml, ListenerSet, listener, condition type, status, reason
        Arguments.of("valid listener: Accepted",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "extra", "Accepted", "True", "Accepted"),
        Arguments.of("valid listener: Programmed",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "extra", "Programmed", "True", "Programmed"),
        Arguments.of("valid listener: NoConflicts",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "default/ls", "extra", "Conflicted", "False", "NoConflicts"),
        Arguments.of("other protocol on a Gateway listener's port: ProtocolConflict",
            sameNamespace + listenerSet("default", "ls", 1, "- {name: tcp, protocol: TCP, port: 80}"),
            "default/ls", "tcp", "Conflicted", "True", "ProtocolConflict"),
        Arguments.of("ProtocolConflict: not Accepted",
            sameNamespace + listenerSet("default", "ls", 1, "- {name: tcp, protocol: TCP, port: 80}"),
            "default/ls", "tcp", "Accepted", "False", "ProtocolConflict"),
        Arguments.of("ProtocolConflict: not Programmed",
            sameNamespace + listenerSet("default", "ls", 1, "- {name: tcp, protocol: TCP, port: 80}"),
            "default/ls", "tcp", "Programmed", "False", "ProtocolConflict"),
        Arguments.of("same port and hostname as a Gateway listener: HostnameConflict",
            sameNamespace + listenerSet("default", "ls", 1,
                "- {name: dup, protocol: HTTP, port: 80, hostname: gw.example.com}"),
            "default/ls", "dup", "Conflicted", "True", "HostnameConflict"),
        Arguments.of("same as an older ListenerSet's listener: the younger is Conflicted",
            sameNamespace + listenerSet("default", "older", 1, ONE_HTTP)
                + listenerSet("default", "younger", 2, ONE_HTTP),
            "default/younger", "extra", "Conflicted", "True", "HostnameConflict"),
        Arguments.of("same as a younger ListenerSet's listener: the older keeps it",
            sameNamespace + listenerSet("default", "older", 1, ONE_HTTP)
                + listenerSet("default", "younger", 2, ONE_HTTP),
            "default/older", "extra", "Accepted", "True", "Accepted"),
        Arguments.of("same creation time: namespace/name decides",
            sameNamespace + listenerSet("default", "b", 1, ONE_HTTP)
                + listenerSet("default", "a", 1, ONE_HTTP),
            "default/b", "extra", "Conflicted", "True", "HostnameConflict"),
        Arguments.of("route kind the protocol cannot take: InvalidRouteKinds",
            sameNamespace + listenerSet("default", "ls", 1,
                "- {name: h, protocol: HTTP, port: 81, allowedRoutes: {kinds: [{kind: TLSRoute}]}}"),
            "default/ls", "h", "ResolvedRefs", "False", "InvalidRouteKinds"),
        Arguments.of("certificate in another namespace without grant: RefNotPermitted",
            sameNamespace + listenerSet("default", "ls", 1, """
                - name: https
                  protocol: HTTPS
                  port: 443
                  tls: {certificateRefs: [{name: cert, namespace: other}]}"""),
            "default/ls", "https", "ResolvedRefs", "False", "RefNotPermitted"),
        Arguments.of("missing certificate: InvalidCertificateRef",
            sameNamespace + listenerSet("default", "ls", 1, """
                - name: https
                  protocol: HTTPS
                  port: 443
                  tls: {certificateRefs: [{name: missing}]}"""),
            "default/ls", "https", "ResolvedRefs", "False", "InvalidCertificateRef"),
        Arguments.of("unsupported protocol: UnsupportedProtocol",
            sameNamespace + listenerSet("default", "ls", 1,
                "- {name: sctp, protocol: example.com/sctp, port: 90}"),
            "default/ls", "sctp", "Accepted", "False", "UnsupportedProtocol"),
        Arguments.of("port held by an older Gateway on the same address: PortUnavailable",
            """
                apiVersion: gateway.networking.k8s.io/v1
                kind: Gateway
                metadata: {name: first, namespace: default, creationTimestamp: "2025-01-01T00:00:00Z"}
                spec:
                  gatewayClassName: portico
                  listeners: [{name: tcp, protocol: TCP, port: 9000}]
                ---
                """ + sameNamespace + listenerSet("default", "ls", 1,
                "- {name: tcp, protocol: TCP, port: 9000}"),
            "default/ls", "tcp", "Programmed", "False", "PortUnavailable"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("listenerEntryConditions")
  void listenerEntryConditions(String name, String yaml, String listenerSet, String listener,
      String type, String status, String reason) throws IOException {
    ListenerEntryStatus entry = listenerSetStatus(translate(yaml), listenerSet).getListeners()
        .stream().filter(l -> l.getName().equals(listener)).findFirst().orElseThrow();
    assertThat(condition(entry.getConditions(), type))
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly(status, reason);
  }

  static Stream<Arguments> routeParentConditions() {
    String sameNamespace = gateway("{namespaces: {from: Same}}", null);
    return Stream.of(
        // name, yaml (a route "r" follows), parentRefs of r, Accepted status, reason
        Arguments.of("ListenerSet parentRef: Accepted",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls}]", "default", "ListenerSet", "True", "Accepted"),
        Arguments.of("ListenerSet parentRef with its listener's sectionName: Accepted",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls, sectionName: extra}]", "default", "ListenerSet",
            "True", "Accepted"),
        Arguments.of("ListenerSet parentRef with a Gateway listener's sectionName: NoMatchingParent",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls, sectionName: http}]", "default", "ListenerSet",
            "False", "NoMatchingParent"),
        Arguments.of("Gateway parentRef with a ListenerSet listener's sectionName: NoMatchingParent",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{name: gw, sectionName: extra}]", "default", "Gateway", "False",
            "NoMatchingParent"),
        Arguments.of("ListenerSet its Gateway does not admit: NoMatchingParent",
            gateway(null, null) + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls}]", "default", "ListenerSet", "False",
            "NoMatchingParent"),
        Arguments.of("route outside the ListenerSet's namespace (allowedRoutes Same): NotAllowedByListeners",
            gateway("{namespaces: {from: All}}", null) + listenerSet("team", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls, namespace: team}]", "default", "ListenerSet",
            "False", "NotAllowedByListeners"),
        Arguments.of("route in the ListenerSet's namespace, not the Gateway's: Accepted",
            gateway("{namespaces: {from: All}}", null) + listenerSet("team", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls}]", "team", "ListenerSet", "True", "Accepted"),
        Arguments.of("hostname matching no ListenerSet listener: NoMatchingListenerHostname",
            sameNamespace + listenerSet("default", "ls", 1, ONE_HTTP),
            "[{kind: ListenerSet, name: ls}]\n  hostnames: [gw.example.com]", "default",
            "ListenerSet", "False", "NoMatchingListenerHostname"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routeParentConditions")
  void routeParentConditions(String name, String yaml, String parentRefs, String routeNamespace,
      String parentKind, String status, String reason) throws IOException {
    Translation translation = translate(yaml + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: %s}
        spec:
          parentRefs: %s
          rules: [{backendRefs: [{name: web, namespace: default, port: 8080}]}]
        """.formatted(routeNamespace, parentRefs));
    List<RouteParentStatus> parents = translation.status().httpRoutes()
        .get(new ObjectKey("HTTPRoute", routeNamespace, "r")).getParents();
    assertThat(parents).hasSize(1);
    RouteParentStatus parent = parents.get(0);
    assertThat(parent.getParentRef().getKind()).isEqualTo(parentKind);
    assertThat(parent.getParentRef().getGroup()).isEqualTo("gateway.networking.k8s.io");
    assertThat(condition(parent.getConditions(), "Accepted"))
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly(status, reason);
  }

  @Test
  void gatewayCountsOnlyAcceptedListenerSetsAndKeepsItsOwnStatus() throws IOException {
    Translation translation = translate(gateway("{namespaces: {from: Same}}", null)
        + listenerSet("default", "good", 1, ONE_HTTP)
        + listenerSet("default", "conflicted", 2,
            "- {name: http, protocol: HTTP, port: 80, hostname: gw.example.com}")
        + listenerSet("other", "elsewhere", 3, ONE_HTTP));
    GatewayStatus gateway = translation.status().gateways()
        .get(new ObjectKey("Gateway", "default", "gw"));
    assertThat(gateway.getAttachedListenerSets()).isEqualTo(1);
    // Only its own listener; the Gateway is accepted whatever its ListenerSets are.
    assertThat(gateway.getListeners()).extracting(l -> l.getName()).containsExactly("http");
    assertThat(condition(gateway.getConditions(), "Accepted").getReason()).isEqualTo("Accepted");
  }

  @Test
  void gatewayWithoutAllowedListenersReportsNoCount() throws IOException {
    Translation translation = translate(gateway(null, null));
    assertThat(translation.status().gateways().get(new ObjectKey("Gateway", "default", "gw"))
        .getAttachedListenerSets()).isNull();
  }

  @Test
  void listenerSetOfAnotherControllersGatewayGetsNoStatus() throws IOException {
    Translation translation = translate("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: someone-else
          allowedListeners: {namespaces: {from: All}}
          listeners: [{name: http, protocol: HTTP, port: 80}]
        ---
        """ + listenerSet("default", "ls", 1, ONE_HTTP));
    assertThat(translation.status().listenerSets()).isEmpty();
  }

  @Test
  void listenerSetListenerOnItsOwnPortIsServed() throws IOException {
    Translation translation = translate(gateway("{namespaces: {from: Same}}", null)
        + listenerSet("default", "ls", 1,
            "- {name: alt, protocol: HTTP, port: 8081, hostname: ls.example.com}")
        + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: default}
        spec:
          parentRefs: [{kind: ListenerSet, name: ls}]
          rules: [{backendRefs: [{name: web, port: 8080}]}]
        """);
    HttpPort port = translation.table().httpPort(8081);
    assertThat(port).isNotNull();
    assertThat(port.listeners()).singleElement().satisfies(listener -> {
      assertThat(listener.source().kind()).isEqualTo("ListenerSet");
      assertThat(listener.virtualHosts()).extracting(v -> v.hostname())
          .containsExactly("ls.example.com");
    });
    assertThat(listenerSetStatus(translation, "default/ls").getListeners().get(0)
        .getAttachedRoutes()).isEqualTo(1);
  }

  @Test
  void gatewayWithoutAValidListenerOfItsOwnServesNoListenerSetListener() throws IOException {
    Translation translation = translate("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          allowedListeners: {namespaces: {from: Same}}
          listeners: [{name: odd, protocol: example.com/odd, port: 80}]
        ---
        """ + listenerSet("default", "ls", 1,
            "- {name: alt, protocol: HTTP, port: 8081, hostname: ls.example.com}"));
    ListenerSetStatus status = listenerSetStatus(translation, "default/ls");
    assertThat(condition(status.getConditions(), "Accepted"))
        .extracting(Condition::getStatus, Condition::getReason)
        .containsExactly("False", "ParentNotAccepted");
    assertThat(translation.table().httpPort(8081)).isNull();
  }

  @Test
  void tcpRouteAttachesThroughAListenerSetTcpListener() throws IOException {
    Translation translation = translate(gateway("{namespaces: {from: Same}}", null)
        + listenerSet("default", "ls", 1, "- {name: db, protocol: TCP, port: 5432}") + """
        apiVersion: gateway.networking.k8s.io/v1alpha2
        kind: TCPRoute
        metadata: {name: db, namespace: default}
        spec:
          parentRefs: [{kind: ListenerSet, name: ls, sectionName: db}]
          rules: [{backendRefs: [{name: web, port: 8080}]}]
        """);
    var parent = translation.status().tcpRoutes().get(new ObjectKey("TCPRoute", "default", "db"))
        .getParents().get(0);
    assertThat(parent.getParentRef().getKind()).isEqualTo("ListenerSet");
    assertThat(condition(parent.getConditions(), "Accepted").getStatus()).isEqualTo("True");
    assertThat(translation.table().streamPorts()).singleElement().satisfies(port -> {
      assertThat(port.port()).isEqualTo(5432);
      assertThat(port.listeners()).singleElement().satisfies(listener -> {
        assertThat(listener.source().kind()).isEqualTo("ListenerSet");
        assertThat(listener.routes()).hasSize(1);
      });
    });
    assertThat(listenerSetStatus(translation, "default/ls").getListeners().get(0)
        .getAttachedRoutes()).isEqualTo(1);
  }

  /** A ListenerSet "ls" in default with a route "r" through it, and {@code policy} targeting it. */
  private static Translation withPolicyOnListenerSet(String kind, String policySpec)
      throws IOException {
    return translate(gateway("{namespaces: {from: Same}}", null)
        + listenerSet("default", "ls", 1, ONE_HTTP) + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: default}
        spec:
          parentRefs: [{kind: ListenerSet, name: ls}]
          rules: [{backendRefs: [{name: web, port: 8080}]}]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: %s
        metadata: {name: p, namespace: default}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: ListenerSet, name: ls}]
          %s
        """.formatted(kind, policySpec));
  }

  private static io.portico.ir.Route routeOnListenerSet(Translation translation) {
    return translation.table().httpPort(80).listeners().stream()
        .filter(l -> l.source().kind().equals("ListenerSet"))
        .flatMap(l -> l.virtualHosts().stream()).flatMap(v -> v.routes().stream())
        .findFirst().orElseThrow();
  }

  @Test
  void backendTrafficPolicyOnAListenerSetIsAcceptedUnderItAndAppliesToItsRoutes()
      throws IOException {
    Translation translation = withPolicyOnListenerSet("BackendTrafficPolicy",
        "loadBalancer: {type: Random}");
    var ancestors = translation.status().backendTrafficPolicies()
        .get(new ObjectKey("BackendTrafficPolicy", "default", "p")).getAncestors();
    assertThat(ancestors).singleElement().satisfies(ancestor -> {
      assertThat(ancestor.getAncestorRef().getKind()).isEqualTo("ListenerSet");
      assertThat(ancestor.getAncestorRef().getName()).isEqualTo("ls");
      assertThat(ancestor.getAncestorRef().getGroup()).isEqualTo("gateway.networking.k8s.io");
      assertThat(condition(ancestor.getConditions(), "Accepted"))
          .extracting(Condition::getStatus, Condition::getReason)
          .containsExactly("True", "Accepted");
    });
    assertThat(routeOnListenerSet(translation).backends().traffic().policy()).isNotNull();
  }

  @Test
  void securityPolicyOnAListenerSetFailsItsRoutesClosed() throws IOException {
    Translation translation = withPolicyOnListenerSet("SecurityPolicy",
        "basicAuth: {users: {name: htpasswd}}");
    assertThat(routeOnListenerSet(translation).unenforced()).isNotNull();
    assertThat(translation.table().httpPort(80).listeners().stream()
        .filter(l -> l.source().kind().equals("Gateway"))
        .flatMap(l -> l.virtualHosts().stream()).flatMap(v -> v.routes().stream()))
        .allMatch(route -> route.unenforced() == null);
    var ancestor = translation.status().unimplementedPolicies()
        .get(new ObjectKey("SecurityPolicy", "default", "p")).getAncestors().get(0);
    assertThat(condition(ancestor.getConditions(), "Accepted").getMessage())
        .contains("answered 500");
  }

  private static Translation translate(String yaml) throws IOException {
    Path file = Files.createTempFile(directory, "case", ".yaml");
    Files.writeString(file, CLASS + yaml);
    return TranslatorGoldenTest.translate(file);
  }

  private static ListenerSetStatus listenerSetStatus(Translation translation, String ref) {
    String[] parts = ref.split("/");
    ListenerSetStatus status = translation.status().listenerSets()
        .get(new ObjectKey("ListenerSet", parts[0], parts[1]));
    assertThat(status).as("status of ListenerSet %s", ref).isNotNull();
    return status;
  }

  private static Condition condition(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> c.getType().equals(type)).findFirst()
        .orElseThrow(() -> new AssertionError("no condition " + type + " in " + conditions));
  }
}
