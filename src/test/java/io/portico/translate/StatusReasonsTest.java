package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerSetStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import io.portico.resource.ObjectKey;
import io.portico.testing.TestCertificates;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Gateway API condition reason Portico sets, one row each: a small YAML snapshot, the
 * object (and listener, route parent or policy ancestor) whose status carries it, and the
 * expected condition type, status, reason and a fragment of the message naming the field,
 * rule, backendRef or Secret at fault. The README's status table lists the same reasons, and
 * those Portico cannot meet with why.
 *
 * <p>Targets: {@code Kind/namespace/name} (GatewayClass: {@code GatewayClass/name}), followed
 * by {@code listener NAME} for a Gateway's or ListenerSet's listener; a route's first parent
 * and a policy's first ancestor are read otherwise.
 */
class StatusReasonsTest {

  @TempDir
  static Path directory;

  private static final TestCertificates.Pem CERT =
      TestCertificates.selfSigned("*.example.com", "example.com");
  private static final TestCertificates.Pem CA = TestCertificates.certificateAuthority("ca");

  private static final String BASE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: GatewayClass
      metadata: {name: portico}
      spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
      ---
      apiVersion: v1
      kind: Namespace
      metadata: {name: default}
      ---
      apiVersion: v1
      kind: Namespace
      metadata: {name: other}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: other}
      spec: {ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: dns, namespace: default}
      spec: {ports: [{name: dns, port: 53, protocol: UDP}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: ws, namespace: default}
      spec: {ports: [{name: ws, port: 8080, appProtocol: kubernetes.io/ws}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: wss, namespace: default}
      spec: {ports: [{name: wss, port: 8443, appProtocol: kubernetes.io/wss}]}
      ---
      """ + CERT.secretYaml("default", "cert") + "---\n" + CERT.secretYaml("other", "cert")
      + "---\n" + CA.caConfigMapYaml("default", "ca") + "---\n";

  /** A Gateway default/gw with these listeners (YAML list items) and extra spec lines. */
  private static String gateway(String listeners, String extraSpec) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
        %s
          listeners:
        %s
        ---
        """.formatted(extraSpec.indent(2).stripTrailing(), listeners.indent(2).stripTrailing());
  }

  private static final String HTTP = "- {name: http, protocol: HTTP, port: 80}";
  private static final String HTTPS = """
      - name: https
        protocol: HTTPS
        port: 443
        tls: {certificateRefs: [{name: cert}]}""";
  private static final String TLS_PASSTHROUGH = """
      - name: tls
        protocol: TLS
        port: 8443
        hostname: "*.example.com"
        tls: {mode: Passthrough}""";

  private static String gateway(String listeners) {
    return gateway(listeners, "");
  }

  /** An HTTPRoute default/r (or in {@code namespace}) with this spec. */
  private static String route(String kind, String namespace, String spec) {
    String apiVersion = kind.equals("TCPRoute") || kind.equals("UDPRoute")
        ? "gateway.networking.k8s.io/v1alpha2" : "gateway.networking.k8s.io/v1";
    return """
        apiVersion: %s
        kind: %s
        metadata: {name: r, namespace: %s}
        spec:
        %s
        ---
        """.formatted(apiVersion, kind, namespace, spec.indent(2).stripTrailing());
  }

  private static String httpRoute(String spec) {
    return route("HTTPRoute", "default", spec);
  }

  private static final String TO_GW = "parentRefs: [{name: gw, namespace: default}]\n";

  private static String httpRule(String rule) {
    return TO_GW + "rules:\n" + rule.indent(0);
  }

  private static String frontend(String validation) {
    return """
        tls:
          frontend:
            default:
              validation:
        %s""".formatted(validation.indent(8).stripTrailing());
  }

  private static String backendTlsPolicy(String name, String minute, String target,
      String validation) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: BackendTLSPolicy
        metadata: {name: %s, namespace: default, creationTimestamp: "2026-01-01T00:%s:00Z"}
        spec:
          targetRefs: [%s]
          validation:
        %s
        ---
        """.formatted(name, minute, target, validation.indent(4).stripTrailing());
  }

  private static final String CA_REF = """
      hostname: web.example.com
      caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]""";
  private static final String WEB = "{group: \"\", kind: Service, name: web}";
  private static final String WITH_ROUTE_TO_WEB = gateway(HTTP)
      + httpRoute(httpRule("- backendRefs: [{name: web, port: 8080}]"));

  /** A BackendTrafficPolicy default/p with this spec (targets included). */
  private static String trafficPolicy(String spec) {
    return """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: p, namespace: default}
        spec:
        %s
        ---
        """.formatted(spec.indent(2).stripTrailing());
  }

  private static final String TO_ROUTE =
      "targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]\n";
  private static final String TO_GATEWAY =
      "targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]\n";
  private static final String RATE_LIMITED = TO_ROUTE + """
      loadBalancer: {type: Random}
      rateLimit:
        type: Local
        local: {rules: [{limit: {requests: 10, unit: Second}}]}
      """;
  private static final String TCP = "- {name: tcp, protocol: TCP, port: 9000}";

  private static String listenerSet(String listeners) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: ListenerSet
        metadata: {name: ls, namespace: default}
        spec:
          parentRef: {name: gw}
          listeners:
        %s
        ---
        """.formatted(listeners.indent(2).stripTrailing());
  }

  static Stream<Arguments> reasons() {
    return Stream.of(
        // ---- GatewayClass
        row("GatewayClass Accepted", "", "GatewayClass/portico",
            "Accepted", "True", "Accepted", "accepted by"),
        row("GatewayClass InvalidParameters", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: tuned}
            spec:
              controllerName: gateway.envoyproxy.io/gatewayclass-controller
              parametersRef:
                {group: gateway.envoyproxy.io, kind: EnvoyProxy, name: p, namespace: default}
            ---
            """, "GatewayClass/tuned", "Accepted", "False", "InvalidParameters",
            "spec.parametersRef gateway.envoyproxy.io/EnvoyProxy default/p"),

        // ---- Gateway
        row("Gateway Accepted", gateway(HTTP), "Gateway/default/gw",
            "Accepted", "True", "Accepted", "accepted"),
        row("Gateway Accepted=True ListenersNotValid",
            gateway(HTTP + "\n- {name: bad, protocol: SCTP, port: 81}"), "Gateway/default/gw",
            "Accepted", "True", "ListenersNotValid", "1 of 2 listeners are not valid ('bad')"),
        row("Gateway Accepted=False ListenersNotValid",
            gateway("- {name: bad, protocol: SCTP, port: 81}"), "Gateway/default/gw",
            "Accepted", "False", "ListenersNotValid", "1 of 1 listeners are not valid ('bad')"),
        row("Gateway UnsupportedAddress",
            gateway(HTTP, "addresses: [{type: Hostname, value: gw.example.com}]"),
            "Gateway/default/gw", "Accepted", "False", "UnsupportedAddress",
            "spec.addresses[0] type Hostname"),
        row("Gateway InvalidParameters",
            gateway(HTTP, "infrastructure: {parametersRef: {group: invalid.io,"
                + " kind: InvalidParameters, name: invalid}}"),
            "Gateway/default/gw", "Accepted", "False", "InvalidParameters",
            "spec.infrastructure.parametersRef invalid.io/InvalidParameters default/invalid"),
        row("Gateway NoValidCACertificate", gateway(HTTPS, frontend(
            "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]")),
            "Gateway/default/gw", "Accepted", "False", "NoValidCACertificate",
            "spec.tls.frontend.default.validation.caCertificateRefs[0] ConfigMap default/nope"),
        row("Gateway Programmed", gateway(HTTP), "Gateway/default/gw",
            "Programmed", "True", "Programmed", "programmed"),
        row("Gateway Programmed=False Invalid",
            gateway("- {name: bad, protocol: SCTP, port: 81}"), "Gateway/default/gw",
            "Programmed", "False", "Invalid", "no listener of the Gateway can be served ('bad'"),
        row("Gateway AddressNotUsable",
            gateway(HTTP, "addresses: [{type: IPAddress, value: 198.51.100.1}]"),
            "Gateway/default/gw", "Programmed", "False", "AddressNotUsable",
            "198.51.100.1 (spec.addresses)"),
        row("Gateway AddressNotAssigned", "# address-pool: 127.0.10.0/30\n" + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: a, namespace: default, creationTimestamp: "2020-01-01T00:00:00Z"}
            spec: {gatewayClassName: portico, listeners: [{name: http, protocol: HTTP, port: 80}]}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: b, namespace: default, creationTimestamp: "2020-01-02T00:00:00Z"}
            spec: {gatewayClassName: portico, listeners: [{name: http, protocol: HTTP, port: 80}]}
            ---
            """ + gateway(HTTP), "Gateway/default/gw", "Programmed", "False",
            "AddressNotAssigned", "the address pool (--gateway-address-pool) has no free address"),
        row("Gateway ResolvedRefs", gateway(HTTP), "Gateway/default/gw",
            "ResolvedRefs", "True", "ResolvedRefs", "resolved"),
        row("Gateway InvalidClientCertificateRef", gateway(HTTP,
            "tls: {backend: {clientCertificateRef: {name: nope}}}"), "Gateway/default/gw",
            "ResolvedRefs", "False", "InvalidClientCertificateRef",
            "spec.tls.backend.clientCertificateRef Secret default/nope not found"),
        row("Gateway RefNotPermitted", gateway(HTTP,
            "tls: {backend: {clientCertificateRef: {name: cert, namespace: other}}}"),
            "Gateway/default/gw", "ResolvedRefs", "False", "RefNotPermitted",
            "spec.tls.backend.clientCertificateRef Secret other/cert"),
        row("Gateway ListenersNotResolved", gateway(HTTP
            + "\n- {name: kinds, protocol: HTTP, port: 81,"
            + " allowedRoutes: {kinds: [{kind: TCPRoute}]}}"),
            "Gateway/default/gw", "ResolvedRefs", "False", "ListenersNotResolved",
            "'kinds' (InvalidRouteKinds)"),
        row("Gateway frontend InvalidCACertificateRef", gateway(HTTPS, frontend(
            "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]")),
            "Gateway/default/gw", "ResolvedRefs", "False", "InvalidCACertificateRef",
            "caCertificateRefs[0] ConfigMap default/nope not found"),
        row("Gateway InsecureFrontendValidationMode", gateway(HTTPS, frontend("""
            mode: AllowInsecureFallback
            caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]""")),
            "Gateway/default/gw", "InsecureFrontendValidationMode", "True",
            "ConfigurationChanged", "spec.tls.frontend.default.validation.mode"),

        // ---- Listener
        row("Listener Accepted", gateway(HTTP), "Gateway/default/gw listener http",
            "Accepted", "True", "Accepted", "accepted"),
        row("Listener PortUnavailable", gateway(HTTP) + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: early, namespace: default, creationTimestamp: "2020-01-01T00:00:00Z"}
            spec:
              gatewayClassName: portico
              listeners: [{name: http, protocol: HTTP, port: 80}]
            ---
            """, "Gateway/default/gw listener http", "Accepted", "False",
            "PortUnavailable", "port 80 is already served for Gateway default/early"),
        row("Listener UnsupportedProtocol", gateway("- {name: bad, protocol: SCTP, port: 81}"),
            "Gateway/default/gw listener bad", "Accepted", "False", "UnsupportedProtocol",
            "protocol SCTP is not supported"),
        row("Listener UnsupportedValue",
            gateway("- {name: bad, protocol: TLS, port: 8443, tls: {mode: Bogus}}"),
            "Gateway/default/gw listener bad", "Accepted", "False", "UnsupportedValue",
            "tls.mode Bogus is not supported"),
        row("Listener NoValidCACertificate", gateway(HTTPS, frontend(
            "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]")),
            "Gateway/default/gw listener https", "Accepted", "False", "NoValidCACertificate",
            "ConfigMap default/nope not found"),
        row("Listener NoConflicts", gateway(HTTP), "Gateway/default/gw listener http",
            "Conflicted", "False", "NoConflicts", "does not conflict"),
        row("Listener HostnameConflict",
            gateway(HTTP + "\n- {name: again, protocol: HTTP, port: 80}"),
            "Gateway/default/gw listener again", "Conflicted", "True", "HostnameConflict",
            "listener 'http' uses the same port 80"),
        row("Listener ProtocolConflict", gateway(HTTP + "\n- {name: tcp, protocol: TCP, port: 80}"),
            "Gateway/default/gw listener tcp", "Conflicted", "True", "ProtocolConflict",
            "port 80 is also used with protocol HTTP by listener 'http'"),
        row("Listener ResolvedRefs", gateway(HTTPS), "Gateway/default/gw listener https",
            "ResolvedRefs", "True", "ResolvedRefs", "resolved"),
        row("Listener InvalidCertificateRef", gateway("""
            - name: https
              protocol: HTTPS
              port: 443
              tls: {certificateRefs: [{name: missing}]}"""),
            "Gateway/default/gw listener https", "ResolvedRefs", "False",
            "InvalidCertificateRef", "certificateRefs[0] Secret default/missing not found"),
        row("Listener InvalidRouteKinds", gateway(
            "- {name: http, protocol: HTTP, port: 80, allowedRoutes: {kinds: [{kind: TCPRoute}]}}"),
            "Gateway/default/gw listener http", "ResolvedRefs", "False", "InvalidRouteKinds",
            "allowedRoutes.kinds [gateway.networking.k8s.io/TCPRoute]"),
        row("Listener RefNotPermitted", gateway("""
            - name: https
              protocol: HTTPS
              port: 443
              tls: {certificateRefs: [{name: cert, namespace: other}]}"""),
            "Gateway/default/gw listener https", "ResolvedRefs", "False", "RefNotPermitted",
            "Secret other/cert"),
        row("Listener InvalidCACertificateRef", gateway(HTTPS, frontend(
            "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]")),
            "Gateway/default/gw listener https", "ResolvedRefs", "False",
            "InvalidCACertificateRef", "caCertificateRefs[0] ConfigMap default/nope not found"),
        row("Listener InvalidCACertificateKind", gateway(HTTPS, frontend(
            "caCertificateRefs: [{group: \"\", kind: Secret, name: cert}]")),
            "Gateway/default/gw listener https", "ResolvedRefs", "False",
            "InvalidCACertificateKind", "caCertificateRefs[0] Secret default/cert"),
        row("Listener Programmed", gateway(HTTP), "Gateway/default/gw listener http",
            "Programmed", "True", "Programmed", "programmed"),
        row("Listener Programmed=False Invalid",
            gateway("- {name: bad, protocol: SCTP, port: 81}"), "Gateway/default/gw listener bad",
            "Programmed", "False", "Invalid",
            "not accepted: listener 'bad' of Gateway default/gw: protocol SCTP"),
        row("Listener OverlappingTLSConfig", gateway("""
            - name: wildcard
              protocol: HTTPS
              port: 443
              hostname: "*.example.com"
              tls: {certificateRefs: [{name: cert}]}
            - name: exact
              protocol: HTTPS
              port: 443
              hostname: foo.example.com
              tls: {certificateRefs: [{name: cert}]}"""),
            "Gateway/default/gw listener exact", "OverlappingTLSConfig", "True",
            "OverlappingHostnames",
            "hostname foo.example.com overlaps listener 'wildcard' (hostname *.example.com)"),

        // ---- HTTPRoute parents
        row("HTTPRoute Accepted", WITH_ROUTE_TO_WEB, "HTTPRoute/default/r",
            "Accepted", "True", "Accepted", "accepted"),
        row("HTTPRoute NotAllowedByListeners", gateway(HTTP)
            + route("HTTPRoute", "other", TO_GW), "HTTPRoute/other/r", "Accepted", "False",
            "NotAllowedByListeners", "allowedRoutes.namespaces.from: Same"),
        row("HTTPRoute NoMatchingListenerHostname",
            gateway("- {name: http, protocol: HTTP, port: 80, hostname: a.example.com}")
                + httpRoute(TO_GW + "hostnames: [b.example.com]"),
            "HTTPRoute/default/r", "Accepted", "False", "NoMatchingListenerHostname",
            "none of the hostnames [b.example.com]"),
        row("HTTPRoute NoMatchingParent", gateway(HTTP)
            + httpRoute("parentRefs: [{name: gw, sectionName: nope}]"), "HTTPRoute/default/r",
            "Accepted", "False", "NoMatchingParent", "has no listener named 'nope'"),
        row("HTTPRoute UnsupportedValue", gateway(HTTP) + httpRoute(httpRule(
            "- matches: [{path: {type: RegularExpression, value: '/(unclosed'}}]")),
            "HTTPRoute/default/r", "Accepted", "False", "UnsupportedValue",
            "spec.rules[0].matches[0].path.value: regular expression '/(unclosed'"),
        row("HTTPRoute IncompatibleFilters", gateway(HTTP) + httpRoute(httpRule("""
            - filters:
              - {type: RequestRedirect, requestRedirect: {hostname: a.example.com}}
              - {type: URLRewrite, urlRewrite: {hostname: b.example.com}}""")),
            "HTTPRoute/default/r", "Accepted", "False", "IncompatibleFilters",
            "rule 0: filters RequestRedirect and URLRewrite cannot be combined"),
        row("HTTPRoute PartiallyInvalid", gateway(HTTP) + httpRoute(httpRule("""
            - backendRefs: [{name: web, port: 8080}]
            - matches: [{path: {type: RegularExpression, value: '/(unclosed'}}]""")),
            "HTTPRoute/default/r", "PartiallyInvalid", "True", "UnsupportedValue",
            "Dropped Rule(s): spec.rules[1].matches[0].path.value"),
        row("HTTPRoute ResolvedRefs", WITH_ROUTE_TO_WEB, "HTTPRoute/default/r",
            "ResolvedRefs", "True", "ResolvedRefs", "Resolved"),
        row("HTTPRoute RefNotPermitted", gateway(HTTP) + httpRoute(httpRule(
            "- backendRefs: [{name: web, namespace: other, port: 8080}]")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "RefNotPermitted",
            "rule 0 backendRefs[0]: Service other/web is in another namespace"),
        row("HTTPRoute InvalidKind", gateway(HTTP) + httpRoute(httpRule(
            "- backendRefs: [{group: example.com, kind: Bucket, name: b}]")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "InvalidKind",
            "rule 0 backendRefs[0]: kind example.com/Bucket is not supported"),
        row("HTTPRoute InvalidKind (ExtensionRef filter)", gateway(HTTP) + httpRoute(httpRule("""
            - filters:
              - {type: ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: t}}
              backendRefs: [{name: web, port: 8080}]""")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "InvalidKind",
            "rule 0 filters[0] (ExtensionRef): example.com/Thing t is not supported"),
        row("HTTPRoute BackendNotFound", gateway(HTTP) + httpRoute(httpRule(
            "- backendRefs: [{name: nope, port: 8080}]")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "BackendNotFound",
            "rule 0 backendRefs[0]: Service default/nope not found"),
        row("HTTPRoute UnsupportedProtocol", gateway(HTTP) + httpRoute(httpRule(
            "- backendRefs: [{name: dns, port: 53}]")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "UnsupportedProtocol",
            "rule 0 backendRefs[0]: Service default/dns port 53 is not a TCP port"),

        row("HTTPRoute UnsupportedProtocol (wss without BackendTLSPolicy)", gateway(HTTP)
            + httpRoute(httpRule("- backendRefs: [{name: wss, port: 8443}]")),
            "HTTPRoute/default/r", "ResolvedRefs", "False", "UnsupportedProtocol",
            "Service default/wss port 8443 has appProtocol kubernetes.io/wss (WebSocket over TLS),"
                + " and no BackendTLSPolicy targets it"),
        row("HTTPRoute ResolvedRefs (wss with a BackendTLSPolicy)", gateway(HTTP)
            + httpRoute(httpRule("- backendRefs: [{name: wss, port: 8443}]"))
            + backendTlsPolicy("p", "01", "{group: \"\", kind: Service, name: wss}", CA_REF),
            "HTTPRoute/default/r", "ResolvedRefs", "True", "ResolvedRefs", "Resolved"),

        // ---- GRPCRoute parents
        row("GRPCRoute Accepted", gateway(HTTP) + route("GRPCRoute", "default", TO_GW
            + "rules: [{backendRefs: [{name: web, port: 8080}]}]"), "GRPCRoute/default/r",
            "Accepted", "True", "Accepted", "accepted"),
        row("GRPCRoute UnsupportedValue", gateway(HTTP) + route("GRPCRoute", "default", TO_GW
            + "rules: [{matches: [{method: {type: RegularExpression, service: '(unclosed'}}]}]"),
            "GRPCRoute/default/r", "Accepted", "False", "UnsupportedValue",
            "spec.rules[0].matches[0].method.service: regular expression '(unclosed'"),
        row("GRPCRoute NotAllowedByListeners (HTTPRoute keeps the hostname)", gateway(HTTP)
            + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: older, namespace: default, creationTimestamp: "2020-01-01T00:00:00Z"}
            spec: {parentRefs: [{name: gw}]}
            ---
            """ + route("GRPCRoute", "default", TO_GW), "GRPCRoute/default/r",
            "Accepted", "False", "NotAllowedByListeners", "HTTPRoute default/older already serves"),
        row("GRPCRoute InvalidKind (ExtensionRef filter)", gateway(HTTP) + route("GRPCRoute",
            "default", TO_GW + "rules: [{backendRefs: [{name: web, port: 8080, filters: [{type:"
                + " ExtensionRef, extensionRef: {group: example.com, kind: Thing, name: t}}]}]}]"),
            "GRPCRoute/default/r", "ResolvedRefs", "False", "InvalidKind",
            "rule 0 backendRefs[0] filters[0] (ExtensionRef): example.com/Thing t"),
        row("GRPCRoute UnsupportedProtocol", gateway(HTTP) + route("GRPCRoute", "default", TO_GW
            + "rules: [{backendRefs: [{name: ws, port: 8080}]}]"), "GRPCRoute/default/r",
            "ResolvedRefs", "False", "UnsupportedProtocol",
            "Service default/ws port 8080 has appProtocol kubernetes.io/ws"),

        // ---- TLSRoute, TCPRoute, UDPRoute parents
        row("TLSRoute Accepted", gateway(TLS_PASSTHROUGH) + route("TLSRoute", "default", TO_GW
            + "hostnames: [a.example.com]\nrules: [{backendRefs: [{name: web, port: 8080}]}]"),
            "TLSRoute/default/r", "Accepted", "True", "Accepted", "accepted"),
        row("TLSRoute NotAllowedByListeners (HTTP listener)", gateway(HTTP)
            + route("TLSRoute", "default",
                TO_GW + "rules: [{backendRefs: [{name: web, port: 8080}]}]"),
            "TLSRoute/default/r", "Accepted", "False", "NotAllowedByListeners",
            "does not allow kind TLSRoute"),
        row("TLSRoute NoMatchingListenerHostname", gateway(TLS_PASSTHROUGH)
            + route("TLSRoute", "default", TO_GW + "hostnames: [a.example.org]\n"
                + "rules: [{backendRefs: [{name: web, port: 8080}]}]"),
            "TLSRoute/default/r", "Accepted", "False", "NoMatchingListenerHostname",
            "[a.example.org]"),
        row("TCPRoute UnsupportedValue (two rules)",
            gateway("- {name: tcp, protocol: TCP, port: 9000}") + route("TCPRoute", "default",
                TO_GW + "rules: [{backendRefs: [{name: web, port: 8080}]}, "
                    + "{backendRefs: [{name: web, port: 8080}]}]"),
            "TCPRoute/default/r", "Accepted", "False", "UnsupportedValue", "rules"),
        row("TCPRoute RefNotPermitted",
            gateway("- {name: tcp, protocol: TCP, port: 9000}") + route("TCPRoute", "default",
                TO_GW + "rules: [{backendRefs: [{name: web, namespace: other, port: 8080}]}]"),
            "TCPRoute/default/r", "ResolvedRefs", "False", "RefNotPermitted",
            "rule 0 backendRefs[0]: Service other/web"),
        row("UDPRoute Accepted", gateway("- {name: udp, protocol: UDP, port: 5353}")
            + route("UDPRoute", "default",
                TO_GW + "rules: [{backendRefs: [{name: dns, port: 53}]}]"),
            "UDPRoute/default/r", "Accepted", "True", "Accepted", "accepted"),
        row("UDPRoute NoMatchingParent (port)", gateway("- {name: udp, protocol: UDP, port: 5353}")
            + route("UDPRoute", "default", "parentRefs: [{name: gw, port: 53}]\n"
                + "rules: [{backendRefs: [{name: dns, port: 53}]}]"),
            "UDPRoute/default/r", "Accepted", "False", "NoMatchingParent", "on port 53"),
        row("UDPRoute UnsupportedProtocol", gateway("- {name: udp, protocol: UDP, port: 5353}")
            + route("UDPRoute", "default",
                TO_GW + "rules: [{backendRefs: [{name: web, port: 8080}]}]"),
            "UDPRoute/default/r", "ResolvedRefs", "False", "UnsupportedProtocol",
            "Service default/web port 8080 is not a UDP port (protocol TCP)"),

        // ---- ListenerSet (more rows in ListenerSetStatusTest)
        row("ListenerSet Accepted", gateway(HTTP, "allowedListeners: {namespaces: {from: Same}}")
            + listenerSet("- {name: extra, protocol: HTTP, port: 80, hostname: ls.example.com}"),
            "ListenerSet/default/ls", "Accepted", "True", "Accepted", "accepted"),
        row("ListenerSet NotAllowed", gateway(HTTP)
            + listenerSet("- {name: extra, protocol: HTTP, port: 80, hostname: ls.example.com}"),
            "ListenerSet/default/ls", "Accepted", "False", "NotAllowed", "allowedListeners"),
        row("ListenerSet ParentNotAccepted", gateway(HTTP,
            "allowedListeners: {namespaces: {from: Same}}\n"
                + "infrastructure: {parametersRef: {group: x.io, kind: P, name: p}}")
            + listenerSet("- {name: extra, protocol: HTTP, port: 80, hostname: ls.example.com}"),
            "ListenerSet/default/ls", "Accepted", "False", "ParentNotAccepted",
            "Gateway default/gw is not accepted"
                + " (InvalidParameters: spec.infrastructure.parametersRef"),
        row("ListenerSet ListenersNotValid", gateway(HTTP,
            "allowedListeners: {namespaces: {from: Same}}")
            + listenerSet("- {name: extra, protocol: HTTP, port: 80}"),
            "ListenerSet/default/ls", "Accepted", "False", "ListenersNotValid",
            "none of the 1 listeners of ListenerSet default/ls is valid ('extra')"),
        row("ListenerSet listener HostnameConflict", gateway(HTTP,
            "allowedListeners: {namespaces: {from: Same}}")
            + listenerSet("- {name: extra, protocol: HTTP, port: 80}"),
            "ListenerSet/default/ls listener extra", "Conflicted", "True", "HostnameConflict",
            "listener 'http' of Gateway default/gw uses the same port 80"),

        // ---- BackendTrafficPolicy (ancestor: the Gateway, for a route or Gateway target)
        row("BackendTrafficPolicy Accepted with a field Portico does not implement",
            WITH_ROUTE_TO_WEB + trafficPolicy(RATE_LIMITED), "BackendTrafficPolicy/default/p",
            "Accepted", "True", "Accepted", "accepted"),
        row("BackendTrafficPolicy Unsupported (top level, HTTPRoute target: a protection)",
            WITH_ROUTE_TO_WEB + trafficPolicy(RATE_LIMITED), "BackendTrafficPolicy/default/p",
            "Warning", "True", "Unsupported", "Protection not enforced: spec.rateLimit (requests"
                + " are not rate limited). Portico does not implement spec.rateLimit: it has no"
                + " effect; the policy's other fields apply"),
        row("BackendTrafficPolicy Unsupported (nested, HTTPRoute target)", WITH_ROUTE_TO_WEB
            + trafficPolicy(TO_ROUTE + """
                loadBalancer:
                  {type: RoundRobin, slowStart: {window: 10s}, zoneAware: {preferLocal: {}}}
                retry: {numRetries: 1, numAttemptsPerPriority: 2}
                timeout: {http: {requestTimeout: 5s, streamIdleTimeout: 1m}}
                """), "BackendTrafficPolicy/default/p", "Warning", "True", "Unsupported",
            "Portico does not implement spec.loadBalancer.zoneAware,"
                + " spec.retry.numAttemptsPerPriority, spec.timeout.http.streamIdleTimeout: they"
                + " have no effect; the policy's other fields apply"),
        row("BackendTrafficPolicy Unsupported (top level and nested, Gateway target)",
            WITH_ROUTE_TO_WEB + trafficPolicy(TO_GATEWAY + """
                compression: [{type: Gzip}]
                healthCheck: {passive: {consecutive5XxErrors: 3, failurePercentageThreshold: 50}}
                """), "BackendTrafficPolicy/default/p", "Warning", "True", "Unsupported",
            "Portico does not implement spec.compression,"
                + " spec.healthCheck.passive.failurePercentageThreshold"),
        row("BackendTrafficPolicy Invalid (nothing it sets is implemented, Gateway target)",
            WITH_ROUTE_TO_WEB + trafficPolicy(TO_GATEWAY + "rateLimit: {type: Global}\n"
                + "faultInjection: {abort: {httpStatus: 503}}"), "BackendTrafficPolicy/default/p",
            "Accepted", "False", "Invalid", "Protection not enforced: spec.rateLimit (requests"
                + " are not rate limited). Portico does not implement spec.faultInjection,"
                + " spec.rateLimit: they have no effect; this policy sets nothing else, so it is"
                + " not applied"),
        row("BackendTrafficPolicy NotApplicable (TCPRoute target)", gateway(TCP)
            + route("TCPRoute", "default", TO_GW + "rules: [{backendRefs: [{name: web, port:"
                + " 8080}]}]") + trafficPolicy("""
                targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: r}]
                loadBalancer: {type: Random}
                retry: {numRetries: 1}
                """), "BackendTrafficPolicy/default/p", "Warning", "True", "NotApplicable",
            "spec.retry does not apply to TCPRoute default/r: not applied there"),
        row("BackendTrafficPolicy Unsupported and NotApplicable (TCPRoute target): one"
            + " condition, each field once", gateway(TCP)
            + route("TCPRoute", "default", TO_GW + "rules: [{backendRefs: [{name: web, port:"
                + " 8080}]}]") + trafficPolicy("""
                targetRefs: [{group: gateway.networking.k8s.io, kind: TCPRoute, name: r}]
                loadBalancer: {type: Random}
                retry: {numRetries: 1}
                tcpKeepalive: {probes: 3}
                """), "BackendTrafficPolicy/default/p", "Warning", "True", "Unsupported",
            "Portico does not implement spec.tcpKeepalive: it has no effect; the policy's other"
                + " fields apply; spec.retry does not apply to TCPRoute default/r"),

        // ---- BackendTLSPolicy (ancestor: the Gateway of the route to Service web)
        row("BackendTLSPolicy Accepted", WITH_ROUTE_TO_WEB
            + backendTlsPolicy("p", "01", WEB, CA_REF), "BackendTLSPolicy/default/p",
            "Accepted", "True", "Accepted", "accepted"),
        row("BackendTLSPolicy ResolvedRefs", WITH_ROUTE_TO_WEB
            + backendTlsPolicy("p", "01", WEB, CA_REF), "BackendTLSPolicy/default/p",
            "ResolvedRefs", "True", "ResolvedRefs", "resolved"),
        row("BackendTLSPolicy Invalid", WITH_ROUTE_TO_WEB + backendTlsPolicy("p", "01", WEB,
            "hostname: web.example.com\nwellKnownCACertificates: Other"),
            "BackendTLSPolicy/default/p", "Accepted", "False", "Invalid",
            "wellKnownCACertificates Other is not supported"),
        row("BackendTLSPolicy NoValidCACertificate", WITH_ROUTE_TO_WEB + backendTlsPolicy("p",
            "01", WEB, "hostname: web.example.com\n"
                + "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]"),
            "BackendTLSPolicy/default/p", "Accepted", "False", "NoValidCACertificate",
            "caCertificateRefs[0] ConfigMap default/nope not found"),
        row("BackendTLSPolicy InvalidCACertificateRef", WITH_ROUTE_TO_WEB + backendTlsPolicy("p",
            "01", WEB, "hostname: web.example.com\n"
                + "caCertificateRefs: [{group: \"\", kind: ConfigMap, name: nope}]"),
            "BackendTLSPolicy/default/p", "ResolvedRefs", "False", "InvalidCACertificateRef",
            "caCertificateRefs[0] ConfigMap default/nope not found"),
        row("BackendTLSPolicy InvalidKind", WITH_ROUTE_TO_WEB + backendTlsPolicy("p", "01", WEB,
            "hostname: web.example.com\n"
                + "caCertificateRefs: [{group: \"\", kind: Secret, name: cert}]"),
            "BackendTLSPolicy/default/p", "ResolvedRefs", "False", "InvalidKind",
            "caCertificateRefs[0] Secret default/cert: only core ConfigMaps"),
        row("BackendTLSPolicy Conflicted", WITH_ROUTE_TO_WEB
            + backendTlsPolicy("older", "01", WEB, CA_REF)
            + backendTlsPolicy("p", "02", WEB, CA_REF), "BackendTLSPolicy/default/p",
            "Accepted", "False", "Conflicted",
            "spec.targetRefs[0] Service default/web is already targeted by the older"
                + " BackendTLSPolicy default/older"),
        row("BackendTLSPolicy TargetNotFound", WITH_ROUTE_TO_WEB + backendTlsPolicy("p", "01",
            "{group: \"\", kind: Service, name: web, sectionName: https}", CA_REF),
            "BackendTLSPolicy/default/p", "Accepted", "False", "TargetNotFound",
            "spec.targetRefs[0]: sectionName https: Service default/web has no port named https"));
  }

  private static Arguments row(String name, String yaml, String target, String type,
      String status, String reason, String messageFragment) {
    return Arguments.of(name, yaml, target, type, status, reason, messageFragment);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reasons")
  void conditionNamesTheFieldAtFault(String name, String yaml, String target, String type,
      String status, String reason, String messageFragment) throws IOException {
    List<Condition> conditions = conditions(translate(yaml), target);

    assertThat(conditions).as("%s conditions of %s", type, target)
        .filteredOn(c -> c.getType().equals(type)).singleElement().satisfies(c -> {
          assertThat(c.getStatus()).as("status").isEqualTo(status);
          assertThat(c.getReason()).as("reason").isEqualTo(reason);
          assertThat(c.getMessage()).as("message").contains(messageFragment);
        });
  }

  /** The fields Portico implements get no Warning, on a route target and on a Gateway target. */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {TO_ROUTE, TO_GATEWAY})
  void implementedBackendTrafficPolicyFieldsGetNoWarning(String targets) throws IOException {
    List<Condition> conditions = conditions(translate(WITH_ROUTE_TO_WEB + trafficPolicy(targets
        + """
        loadBalancer: {type: LeastRequest, slowStart: {window: 30s}}
        healthCheck:
          panicThreshold: 40
          active:
            {type: HTTP, timeout: 1s, interval: 2s, http: {path: /healthz, expectedStatuses: [200]}}
          passive: {consecutive5XxErrors: 3, baseEjectionTime: 10s, maxEjectionPercent: 20}
        retry: {numRetries: 1, retryOn: {triggers: [connect-failure]}, perRetry: {timeout: 1s}}
        timeout:
          {tcp: {connectTimeout: 2s}, http: {requestTimeout: 30s, connectionIdleTimeout: 60s}}
        circuitBreaker:
          {maxConnections: 10, maxParallelRequests: 5, perEndpoint: {maxConnections: 2}}
        http2: {maxConcurrentStreams: 50}
        """)), "BackendTrafficPolicy/default/p");

    assertThat(conditions).extracting(Condition::getType).containsExactly("Accepted");
    assertThat(conditions.get(0).getStatus()).isEqualTo("True");
  }

  static Stream<Arguments> attachedRoutes() {
    String toWeb = "rules: [{backendRefs: [{name: web, port: 8080}]}]";
    return Stream.of(
        // name, yaml, listener, expected attachedRoutes
        Arguments.of("an accepted route counts", WITH_ROUTE_TO_WEB, "http", 1),
        Arguments.of("one route counts once per listener it attaches to",
            gateway(HTTP + "\n- {name: other, protocol: HTTP, port: 81}")
                + httpRoute(TO_GW + toWeb), "other", 1),
        Arguments.of("a route naming another sectionName does not count",
            gateway(HTTP + "\n- {name: other, protocol: HTTP, port: 81}")
                + httpRoute("parentRefs: [{name: gw, sectionName: http}]\n" + toWeb), "other", 0),
        Arguments.of("a route with unresolved backendRefs still counts",
            gateway(HTTP) + httpRoute(httpRule("- backendRefs: [{name: nope, port: 8080}]")),
            "http", 1),
        Arguments.of("a route on a listener whose certificate is missing counts (listener status"
            + " does not matter)", gateway("""
            - name: https
              protocol: HTTPS
              port: 443
              tls: {certificateRefs: [{name: missing}]}""") + httpRoute(TO_GW + toWeb),
            "https", 1),
        Arguments.of("a route on a Conflicted listener counts", gateway(HTTP
            + "\n- {name: again, protocol: HTTP, port: 80}")
            + httpRoute("parentRefs: [{name: gw, sectionName: again}]\n" + toWeb), "again", 1),
        Arguments.of("a route from a namespace allowedRoutes does not admit does not count",
            gateway(HTTP) + route("HTTPRoute", "other", TO_GW + toWeb), "http", 0),
        Arguments.of("a route of a kind the listener does not take does not count",
            gateway(HTTP) + route("TCPRoute", "default", TO_GW + toWeb), "http", 0),
        Arguments.of("a route without a matching hostname (Accepted=False) does not count",
            gateway("- {name: http, protocol: HTTP, port: 80, hostname: a.example.com}")
                + httpRoute(TO_GW + "hostnames: [b.example.com]"), "http", 0),
        Arguments.of("a route whose every rule is invalid (Accepted=False) does not count",
            gateway(HTTP) + httpRoute(httpRule(
                "- matches: [{path: {type: RegularExpression, value: '/(unclosed'}}]")), "http", 0),
        Arguments.of("TLS, TCP and UDP routes count on their listeners", gateway(TLS_PASSTHROUGH)
            + route("TLSRoute", "default", TO_GW + toWeb), "tls", 1));
  }

  /**
   * Gateway API {@code ListenerStatus.attachedRoutes}: the routes whose parentRef selects the
   * listener and that its allowedRoutes admit, counted only when the route is Accepted there,
   * whatever the listener's own conditions.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("attachedRoutes")
  void attachedRoutesCountsAcceptedRoutesWhateverTheListenerStatus(String name, String yaml,
      String listener, int expected) throws IOException {
    GatewayStatus status = (GatewayStatus) translate(yaml).status().all()
        .get(new ObjectKey("Gateway", "default", "gw"));

    assertThat(status.getListeners()).filteredOn(l -> l.getName().equals(listener))
        .singleElement().satisfies(l -> assertThat(l.getAttachedRoutes()).isEqualTo(expected));
  }

  static Stream<Arguments> refusedGateways() {
    return Stream.of(
        Arguments.of("a Gateway with an infrastructure parametersRef", gateway(HTTP,
            "infrastructure: {parametersRef: {group: x.io, kind: P, name: p}}")),
        Arguments.of("a Gateway of a class with a parametersRef", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: tuned}
            spec:
              controllerName: gateway.envoyproxy.io/gatewayclass-controller
              parametersRef: {group: x.io, kind: P, name: p}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: gw, namespace: default}
            spec: {gatewayClassName: tuned, listeners: [{name: http, protocol: HTTP, port: 80}]}
            ---
            """),
        Arguments.of("a Gateway the address pool has no address for",
            "# address-pool: 127.0.10.0/30\n" + """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: a, namespace: default, creationTimestamp: "2020-01-01T00:00:00Z"}
            spec: {gatewayClassName: portico, listeners: [{name: http, protocol: HTTP, port: 81}]}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: b, namespace: default, creationTimestamp: "2020-01-02T00:00:00Z"}
            spec: {gatewayClassName: portico, listeners: [{name: http, protocol: HTTP, port: 81}]}
            ---
            """ + gateway(HTTP)));
  }

  /** A Gateway that is not accepted or not programmed serves nothing. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedGateways")
  void refusedGatewayServesNothing(String name, String yaml) throws IOException {
    Translation translation = translate(yaml + httpRoute(TO_GW
        + "rules: [{backendRefs: [{name: web, port: 8080}]}]"));

    assertThat(translation.table().httpPorts()).noneMatch(port -> port.port() == 80);
    assertThat(translate(gateway(HTTP) + httpRoute(TO_GW)).table().httpPorts())
        .as("the same Gateway, accepted").anyMatch(port -> port.port() == 80);
  }

  /** Returns the conditions {@code target} names in the translation's status. */
  private static List<Condition> conditions(Translation translation, String target)
      throws IOException {
    String[] words = target.split(" ");
    String[] parts = words[0].split("/");
    ObjectKey key = parts.length == 2 ? new ObjectKey(parts[0], "", parts[1])
        : new ObjectKey(parts[0], parts[1], parts[2]);
    Object status = translation.status().all().get(key);
    assertThat(status).as("status of %s", key).isNotNull();
    String listener = words.length == 3 && words[1].equals("listener") ? words[2] : null;
    if (status instanceof GatewayClassStatus gatewayClass) {
      return gatewayClass.getConditions();
    }
    if (status instanceof GatewayStatus gateway) {
      return listener == null ? gateway.getConditions() : gateway.getListeners().stream()
          .filter(l -> l.getName().equals(listener)).findFirst().orElseThrow().getConditions();
    }
    if (status instanceof ListenerSetStatus listenerSet) {
      return listener == null ? listenerSet.getConditions() : listenerSet.getListeners().stream()
          .filter(l -> l.getName().equals(listener)).findFirst().orElseThrow().getConditions();
    }
    if (status instanceof PolicyStatus policy) {
      assertThat(policy.getAncestors()).as("ancestors of %s", key).isNotEmpty();
      return policy.getAncestors().get(0).getConditions();
    }
    // HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute: their statuses share getParents().
    try {
      Method parents = status.getClass().getMethod("getParents");
      @SuppressWarnings("unchecked")
      List<RouteParentStatus> list = (List<RouteParentStatus>) parents.invoke(status);
      assertThat(list).as("parents of %s", key).isNotEmpty();
      return list.get(0).getConditions();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("no conditions in " + status.getClass(), e);
    }
  }

  private static Translation translate(String yaml) throws IOException {
    Path file = Files.createTempFile(directory, "case", ".yaml");
    // A "# address-pool: CIDR" first line (TranslatorGoldenTest's option) must stay first.
    String pool = yaml.startsWith("# address-pool:") ? yaml.substring(0, yaml.indexOf('\n') + 1)
        : "";
    Files.writeString(file, pool + BASE + yaml.substring(pool.length()));
    return TranslatorGoldenTest.translate(file);
  }
}
