package io.portico.proxy;

import static io.portico.proxy.ProxyEndToEndTest.gatewayYaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.portico.testing.EchoFleet;
import io.portico.testing.HttpProbe;
import io.portico.testing.HttpProbe.Response;
import io.portico.testing.TestGateway;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPRoute filters over real sockets, with the requests and expectations of the Gateway API
 * conformance tests (HTTPRouteRequestHeaderModifier, HTTPRouteBackendRequestHeaderModifier,
 * HTTPRouteResponseHeaderModifier, HTTPRouteRedirect*, HTTPRoute308Redirect,
 * HTTPRouteRewriteHost, HTTPRouteRewritePath, HTTPRouteBackendURLRewrite) and their manifests,
 * with the conformance Services replaced by local echo backends. As in conformance, several
 * values of one header are compared joined with ",".
 */
class FiltersEndToEndTest {

  private static final String HOST = "filters.example.com";

  @TempDir
  Path directory;

  private final EchoFleet fleet = new EchoFleet();
  private final HttpProbe probe = new HttpProbe();
  private TestGateway gateway;
  private int port;

  @BeforeEach
  void choosePort() {
    port = TestGateway.freePort();
  }

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    probe.close();
    fleet.close();
  }

  /** Serves one HTTPRoute {@code name} for {@link #HOST} with {@code rules}. */
  private void serve(String rules) {
    String route = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: filters, namespace: default}
        spec:
          parentRefs: [{name: gw, namespace: infra}]
          hostnames: [%s]
          rules:
        %s
        """.formatted(HOST, rules.indent(2));
    gateway = TestGateway.start(directory, "gateway.yaml", gatewayYaml(port),
        "backends.yaml", fleet.yaml(), "routes.yaml", route);
  }

  private Response get(String uri, String... headers) {
    return probe.send(HttpMethod.GET, port, HOST, uri, headers(headers), null);
  }

  private static MultiMap headers(String... namesAndValues) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    return headers;
  }

  /** The values of a request header as the echo backend saw them, joined with ","; or null. */
  private static String echoed(Response response, String name) {
    JsonObject headers = response.json().getJsonObject("headers");
    for (String key : headers.fieldNames()) {
      if (key.equalsIgnoreCase(name)) {
        JsonArray values = headers.getJsonArray(key);
        List<String> all = new ArrayList<>();
        values.forEach(v -> all.add((String) v));
        return String.join(",", all);
      }
    }
    return null;
  }

  /** The values of a response header joined with ","; or null. */
  private static String header(Response response, String name) {
    List<String> values = response.headers().getAll(name);
    return values.isEmpty() ? null : String.join(",", values);
  }

  private static String echoSetHeader(String... namesAndValues) {
    List<String> entries = new ArrayList<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      entries.add(namesAndValues[i] + ":" + namesAndValues[i + 1]);
    }
    return String.join(",", entries);
  }

  private static final String REQUEST_HEADER_RULES = """
      - matches: [{path: {type: PathPrefix, value: /set}}]
        filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{name: X-Header-Set, value: set-overwrites-values}]
        backendRefs: [{name: infra-backend-v1, port: 80}]
      - matches: [{path: {type: PathPrefix, value: /add}}]
        filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            add: [{name: X-Header-Add, value: add-appends-values}]
        backendRefs: [{name: infra-backend-v1, port: 80}]
      - matches: [{path: {type: PathPrefix, value: /remove}}]
        filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            remove: [X-Header-Remove]
        backendRefs: [{name: infra-backend-v1, port: 80}]
      - matches: [{path: {type: PathPrefix, value: /multiple}}]
        filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set:
            - {name: X-Header-Set-1, value: header-set-1}
            - {name: X-Header-Set-2, value: header-set-2}
            add:
            - {name: X-Header-Add-1, value: header-add-1}
            - {name: X-Header-Add-2, value: header-add-2}
            - {name: X-Header-Add-3, value: header-add-3}
            remove: [X-Header-Remove-1, X-Header-Remove-2]
        backendRefs: [{name: infra-backend-v1, port: 80}]
      - matches: [{path: {type: PathPrefix, value: /case-insensitivity}}]
        filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{name: X-Header-Set, value: header-set}]
            add: [{name: X-Header-Add, value: header-add}]
            remove: [X-Header-Remove]
        backendRefs: [{name: infra-backend-v1, port: 80}]
      """;

  /** The request table of conformance HTTPRouteRequestHeaderModifier (and its backend variant). */
  private void assertRequestHeaderModifierTable() {
    Response set = get("/set", "Some-Other-Header", "val");
    assertThat(set.status()).isEqualTo(200);
    assertThat(set.pod()).startsWith("infra-backend-v1");
    assertThat(echoed(set, "Some-Other-Header")).isEqualTo("val");
    assertThat(echoed(set, "X-Header-Set")).isEqualTo("set-overwrites-values");

    Response overwritten = get("/set", "Some-Other-Header", "val", "X-Header-Set", "some-other-value");
    assertThat(echoed(overwritten, "X-Header-Set")).isEqualTo("set-overwrites-values");

    Response add = get("/add", "Some-Other-Header", "val");
    assertThat(echoed(add, "X-Header-Add")).isEqualTo("add-appends-values");
    Response appended = get("/add", "Some-Other-Header", "val", "X-Header-Add", "some-other-value");
    assertThat(echoed(appended, "X-Header-Add")).isEqualTo("some-other-value,add-appends-values");

    Response remove = get("/remove", "X-Header-Remove", "val");
    assertThat(remove.status()).isEqualTo(200);
    assertThat(echoed(remove, "X-Header-Remove")).isNull();

    Response multiple = get("/multiple", "X-Header-Set-2", "set-val-2", "X-Header-Add-2", "add-val-2",
        "X-Header-Remove-2", "remove-val-2", "Another-Header", "another-header-val");
    assertThat(echoed(multiple, "X-Header-Set-1")).isEqualTo("header-set-1");
    assertThat(echoed(multiple, "X-Header-Set-2")).isEqualTo("header-set-2");
    assertThat(echoed(multiple, "X-Header-Add-1")).isEqualTo("header-add-1");
    assertThat(echoed(multiple, "X-Header-Add-2")).isEqualTo("add-val-2,header-add-2");
    assertThat(echoed(multiple, "X-Header-Add-3")).isEqualTo("header-add-3");
    assertThat(echoed(multiple, "Another-Header")).isEqualTo("another-header-val");
    assertThat(echoed(multiple, "X-Header-Remove-1")).isNull();
    assertThat(echoed(multiple, "X-Header-Remove-2")).isNull();

    Response cases = get("/case-insensitivity", "x-header-set", "original-val-set",
        "x-header-add", "original-val-add", "x-header-remove", "original-val-remove",
        "Another-Header", "another-header-val");
    assertThat(echoed(cases, "X-Header-Set")).isEqualTo("header-set");
    assertThat(echoed(cases, "X-Header-Add")).isEqualTo("original-val-add,header-add");
    assertThat(echoed(cases, "Another-Header")).isEqualTo("another-header-val");
    assertThat(echoed(cases, "X-Header-Remove")).isNull();
  }

  @Test
  void requestHeaderModifierSetsAddsAndRemovesHeaders() {
    fleet.service("default", "infra-backend-v1", 2);
    serve(REQUEST_HEADER_RULES);

    assertRequestHeaderModifierTable();
    // Modified before X-Forwarded-* are added, which the gateway still sets itself.
    assertThat(echoed(get("/set"), "X-Forwarded-Host")).isEqualTo(HOST);
  }

  @Test
  void requestHeaderModifierOnBackendRefsAppliesToThatBackendOnly() {
    fleet.service("default", "infra-backend-v1", 2).service("default", "infra-backend-v2", 2);
    // HTTPRouteBackendRequestHeaderModifier: the same table with the filters on the backendRefs.
    serve(backendLevel(REQUEST_HEADER_RULES) + """
        - matches: [{path: {type: PathPrefix, value: /weights}}]
          backendRefs:
          - name: infra-backend-v1
            port: 80
            weight: 10
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {set: [{name: Backend, value: infra-backend-v1}]}
          - name: infra-backend-v2
            port: 80
            weight: 10
            filters:
            - type: RequestHeaderModifier
              requestHeaderModifier: {set: [{name: Backend, value: infra-backend-v2}]}
        """);

    assertRequestHeaderModifierTable();
    // HTTPRouteRequestHeaderModifierBackendWeights: each answer comes from the backend whose
    // filter set the header, and only that filter ran.
    List<String> pods = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Response response = get("/weights");
      JsonArray values = response.json().getJsonObject("headers").getJsonArray("Backend");
      assertThat(values).hasSize(1);
      assertThat(response.pod()).startsWith(values.getString(0));
      pods.add(response.pod());
    }
    assertThat(pods).anyMatch(p -> p.startsWith("infra-backend-v1"))
        .anyMatch(p -> p.startsWith("infra-backend-v2"));
  }

  /** Moves each rule's RequestHeaderModifier from the rule onto its (single) backendRef. */
  private static String backendLevel(String rules) {
    StringBuilder out = new StringBuilder();
    for (String rule : rules.split("(?m)^(?=- matches)")) {
      if (rule.isBlank()) {
        continue;
      }
      int filters = rule.indexOf("  filters:\n");
      int backends = rule.indexOf("  backendRefs: [{name: infra-backend-v1, port: 80}]");
      String filterBlock = rule.substring(filters, backends);
      out.append(rule, 0, filters)
          .append("  backendRefs:\n  - name: infra-backend-v1\n    port: 80\n")
          .append(filterBlock.indent(2));
    }
    return out.toString();
  }

  @Test
  void responseHeaderModifierChangesTheRelayedResponse() {
    fleet.service("default", "infra-backend-v1", 1);
    serve("""
        - matches: [{path: {type: PathPrefix, value: /set}}]
          filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier: {set: [{name: X-Header-Set, value: set-overwrites-values}]}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /add}}]
          filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier: {add: [{name: X-Header-Add, value: add-appends-values}]}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /remove}}]
          filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier: {remove: [X-Header-Remove]}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /case-insensitivity}}]
          filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier:
              set: [{name: X-Header-Set, value: header-set}]
              add:
              - {name: X-Header-Add, value: header-add}
              - {name: x-lowercase-add, value: lowercase-add}
              - {name: x-Mixedcase-ADD-1, value: mixedcase-add-1}
              - {name: X-mixeDcase-add-2, value: mixedcase-add-2}
              - {name: X-UPPERCASE-ADD, value: uppercase-add}
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /response-and-request-header-modifiers}}]
          filters:
          - type: ResponseHeaderModifier
            responseHeaderModifier:
              set:
              - {name: X-Header-Set-1, value: header-set-1}
              - {name: X-Header-Set-2, value: header-set-2}
              add:
              - {name: X-Header-Add-1, value: header-add-1}
              - {name: X-Header-Add-2, value: header-add-2}
              remove: [X-Header-Remove-1, X-Header-Remove-2]
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Header-Set, value: set-overwrites-values}]
              add:
              - {name: X-Header-Add, value: header-val-1}
              - {name: X-Header-Add-Append, value: header-val-2}
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 80}]
        """);

    Response set = get("/set", "X-Echo-Set-Header", echoSetHeader("Some-Other-Header", "val"));
    assertThat(set.status()).isEqualTo(200);
    assertThat(header(set, "Some-Other-Header")).isEqualTo("val");
    assertThat(header(set, "X-Header-Set")).isEqualTo("set-overwrites-values");
    Response overwritten = get("/set", "X-Echo-Set-Header",
        echoSetHeader("Some-Other-Header", "val", "X-Header-Set", "some-other-value"));
    assertThat(header(overwritten, "X-Header-Set")).isEqualTo("set-overwrites-values");

    Response add = get("/add", "X-Echo-Set-Header", echoSetHeader("Some-Other-Header", "val"));
    assertThat(header(add, "X-Header-Add")).isEqualTo("add-appends-values");
    Response appended = get("/add", "X-Echo-Set-Header",
        echoSetHeader("Some-Other-Header", "val", "X-Header-Add", "some-other-value"));
    assertThat(header(appended, "X-Header-Add")).isEqualTo("some-other-value,add-appends-values");

    Response remove = get("/remove", "X-Echo-Set-Header", echoSetHeader("X-Header-Remove", "val"));
    assertThat(remove.status()).isEqualTo(200);
    assertThat(header(remove, "X-Header-Remove")).isNull();

    Response cases = get("/case-insensitivity", "X-Echo-Set-Header", echoSetHeader(
        "x-header-set", "original-val-set", "x-header-add", "original-val-add",
        "x-header-remove", "original-val-remove", "Another-Header", "another-header-val"));
    assertThat(header(cases, "X-Header-Set")).isEqualTo("header-set");
    assertThat(header(cases, "X-Header-Add")).isEqualTo("original-val-add,header-add");
    assertThat(header(cases, "X-Lowercase-Add")).isEqualTo("lowercase-add");
    assertThat(header(cases, "X-Mixedcase-Add-1")).isEqualTo("mixedcase-add-1");
    assertThat(header(cases, "X-Mixedcase-Add-2")).isEqualTo("mixedcase-add-2");
    assertThat(header(cases, "X-Uppercase-Add")).isEqualTo("uppercase-add");
    assertThat(header(cases, "Another-Header")).isEqualTo("another-header-val");
    assertThat(header(cases, "X-Header-Remove")).isNull();

    Response both = get("/response-and-request-header-modifiers",
        "X-Header-Remove", "remove-val", "X-Header-Add-Append", "append-val-1",
        "X-Header-Echo", "echo",
        "X-Echo-Set-Header", echoSetHeader("X-Header-Set-2", "set-val-2",
            "X-Header-Add-2", "add-val-2", "X-Header-Remove-2", "remove-val-2",
            "Another-Header", "another-header-val", "X-Header-Remove-1", "remove-val-1",
            "X-Header-Echo", "echo"));
    assertThat(echoed(both, "X-Header-Add")).isEqualTo("header-val-1");
    assertThat(echoed(both, "X-Header-Set")).isEqualTo("set-overwrites-values");
    assertThat(echoed(both, "X-Header-Add-Append")).isEqualTo("append-val-1,header-val-2");
    assertThat(echoed(both, "X-Header-Echo")).isEqualTo("echo");
    assertThat(echoed(both, "X-Header-Remove")).isNull();
    assertThat(header(both, "X-Header-Set-1")).isEqualTo("header-set-1");
    assertThat(header(both, "X-Header-Set-2")).isEqualTo("header-set-2");
    assertThat(header(both, "X-Header-Add-1")).isEqualTo("header-add-1");
    assertThat(header(both, "X-Header-Add-2")).isEqualTo("add-val-2,header-add-2");
    assertThat(header(both, "Another-Header")).isEqualTo("another-header-val");
    assertThat(header(both, "X-Header-Echo")).isEqualTo("echo");
    assertThat(header(both, "X-Header-Remove-1")).isNull();
    assertThat(header(both, "X-Header-Remove-2")).isNull();

    // HTTP/2 header names must be lower case on the wire; mixed-case names still arrive.
    Response h2 = probe.sendHttp2(HttpMethod.GET, port, HOST, "/case-insensitivity");
    assertThat(h2.version()).isEqualTo("HTTP_2");
    assertThat(header(h2, "X-Mixedcase-Add-1")).isEqualTo("mixedcase-add-1");
    assertThat(header(h2, "X-Header-Set")).isEqualTo("header-set");
  }

  @Test
  void redirectAnswersWithHostnameAndStatusWithoutContactingTheBackend() {
    fleet.service("default", "infra-backend-v1", 1);
    serve("""
        - matches: [{path: {type: PathPrefix, value: /hostname-redirect}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {hostname: example.org}
        - matches: [{path: {type: PathPrefix, value: /host-and-status}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {statusCode: 301, hostname: example.org}
          # Ignored: a redirect answers by itself.
          backendRefs: [{name: infra-backend-v1, port: 80}]
        """);

    // HTTPRouteRedirectHostAndStatus; no port and no scheme keep the listener's port.
    Response hostname = get("/hostname-redirect");
    assertThat(hostname.status()).isEqualTo(302);
    assertThat(header(hostname, "Location"))
        .isEqualTo("http://example.org:" + port + "/hostname-redirect");
    Response status = get("/host-and-status?a=1");
    assertThat(status.status()).isEqualTo(301);
    assertThat(header(status, "Location"))
        .isEqualTo("http://example.org:" + port + "/host-and-status?a=1");
    Response post = probe.send(HttpMethod.POST, port, HOST, "/hostname-redirect",
        MultiMap.caseInsensitiveMultiMap(), Buffer.buffer("a body nobody reads"));
    assertThat(post.status()).isEqualTo(302);
    assertThat(fleet.servers().get(0).requestCount()).isZero();
  }

  @Test
  void redirectReplacesThePathOrItsPrefix() {
    serve("""
        - matches: [{path: {type: PathPrefix, value: /original-prefix}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}}
        - matches: [{path: {type: PathPrefix, value: /full}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /full-path-replacement}}
        - matches: [{path: {type: PathPrefix, value: /path-and-host}}]
          filters:
          - type: RequestRedirect
            requestRedirect:
              hostname: example.org
              path: {type: ReplacePrefixMatch, replacePrefixMatch: /replacement-prefix}
        - matches: [{path: {type: PathPrefix, value: /full-path-and-status}}]
          filters:
          - type: RequestRedirect
            requestRedirect:
              path: {type: ReplaceFullPath, replaceFullPath: /replacement-full}
              statusCode: 301
        """);

    String self = "http://" + HOST + ":" + port;
    // HTTPRouteRedirectPath
    Response prefix = get("/original-prefix/lemon");
    assertThat(prefix.status()).isEqualTo(302);
    assertThat(header(prefix, "Location")).isEqualTo(self + "/replacement-prefix/lemon");
    assertThat(header(get("/full/path/original"), "Location")).isEqualTo(self + "/full-path-replacement");
    assertThat(header(get("/path-and-host"), "Location"))
        .isEqualTo("http://example.org:" + port + "/replacement-prefix");
    Response fullAndStatus = get("/full-path-and-status?keep=me");
    assertThat(fullAndStatus.status()).isEqualTo(301);
    assertThat(header(fullAndStatus, "Location")).isEqualTo(self + "/replacement-full?keep=me");
  }

  @Test
  void redirectPortAndSchemeFollowTheSpecsPortRules() {
    serve("""
        - matches: [{path: {type: PathPrefix, value: /port}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {port: 8083}
        - matches: [{path: {type: PathPrefix, value: /port-and-host}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {hostname: example.org, port: 8083}
        - matches: [{path: {type: PathPrefix, value: /port-80}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {hostname: example.org, port: 80}
        - matches: [{path: {type: PathPrefix, value: /scheme}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https}
        - matches: [{path: {type: PathPrefix, value: /scheme-and-host-and-status}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https, statusCode: 302, hostname: example.org}
        - matches: [{path: {type: PathPrefix, value: /scheme-and-port}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https, port: 8443, hostname: example.org}
        """);

    // HTTPRouteRedirectPort
    assertThat(header(get("/port"), "Location")).isEqualTo("http://" + HOST + ":8083/port");
    assertThat(header(get("/port-and-host"), "Location"))
        .isEqualTo("http://example.org:8083/port-and-host");
    assertThat(header(get("/port-80"), "Location")).isEqualTo("http://example.org/port-80");
    // HTTPRouteRedirectScheme: the scheme's well-known port, left out.
    Response scheme = get("/scheme");
    assertThat(scheme.status()).isEqualTo(302);
    assertThat(header(scheme, "Location")).isEqualTo("https://" + HOST + "/scheme");
    assertThat(header(get("/scheme-and-host-and-status"), "Location"))
        .isEqualTo("https://example.org/scheme-and-host-and-status");
    assertThat(header(get("/scheme-and-port"), "Location"))
        .isEqualTo("https://example.org:8443/scheme-and-port");
  }

  @Test
  void redirectStatusCodes303307And308() {
    serve("""
        - matches: [{path: {type: PathPrefix, value: /see-other}}]
          filters: [{type: RequestRedirect, requestRedirect: {statusCode: 303}}]
        - matches: [{path: {type: PathPrefix, value: /temporary}}]
          filters: [{type: RequestRedirect, requestRedirect: {statusCode: 307}}]
        - matches: [{path: {type: PathPrefix, value: /permanent}}]
          filters: [{type: RequestRedirect, requestRedirect: {statusCode: 308}}]
        """);

    for (Map.Entry<String, Integer> row : Map.of("/see-other", 303, "/temporary", 307,
        "/permanent", 308).entrySet()) {
      Response response = get(row.getKey());
      assertThat(response.status()).as(row.getKey()).isEqualTo(row.getValue());
      assertThat(header(response, "Location")).isEqualTo("http://" + HOST + ":" + port + row.getKey());
    }
  }

  @Test
  void backendRefRedirectAnswersForThatBackend() {
    fleet.service("default", "infra-backend-v1", 1);
    // The manifest httproute-backend-request-redirect.yaml.
    serve("""
        - matches: [{path: {type: PathPrefix, value: /full}}]
          backendRefs:
          - name: infra-backend-v1
            port: 80
            filters:
            - type: RequestRedirect
              requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /redirected-full}}
        - matches: [{path: {type: PathPrefix, value: /prefix}}]
          backendRefs:
          - name: infra-backend-v1
            port: 80
            filters:
            - type: RequestRedirect
              requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /redirected-prefix}}
        """);

    String self = "http://" + HOST + ":" + port;
    assertThat(header(get("/full/original"), "Location")).isEqualTo(self + "/redirected-full");
    assertThat(header(get("/prefix/original"), "Location")).isEqualTo(self + "/redirected-prefix/original");
    assertThat(fleet.servers().get(0).requestCount()).isZero();
  }

  @Test
  void urlRewriteChangesTheHostSentUpstream() {
    fleet.service("default", "infra-backend-v1", 1).service("default", "infra-backend-v2", 1);
    // HTTPRouteRewriteHost
    serve("""
        - matches: [{path: {type: PathPrefix, value: /one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {hostname: one.example.org}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - filters:
          - type: URLRewrite
            urlRewrite: {hostname: example.org}
          backendRefs: [{name: infra-backend-v2, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /rewrite-host-and-modify-headers}}]
          filters:
          - type: URLRewrite
            urlRewrite: {hostname: test.example.org}
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Header-Set, value: set-overwrites-values}]
              add:
              - {name: X-Header-Add, value: header-val-1}
              - {name: X-Header-Add-Append, value: header-val-2}
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v2, port: 80}]
        """);

    Response one = get("/one");
    assertThat(one.pod()).startsWith("infra-backend-v1");
    assertThat(one.json().getString("host")).isEqualTo("one.example.org");
    assertThat(one.json().getString("path")).isEqualTo("/one");
    assertThat(echoed(one, "X-Forwarded-Host")).isEqualTo(HOST);
    Response two = get("/two");
    assertThat(two.pod()).startsWith("infra-backend-v2");
    assertThat(two.json().getString("host")).isEqualTo("example.org");
    Response both = get("/rewrite-host-and-modify-headers", "X-Header-Remove", "remove-val",
        "X-Header-Add-Append", "append-val-1");
    assertThat(both.json().getString("host")).isEqualTo("test.example.org");
    assertThat(both.json().getString("path")).isEqualTo("/rewrite-host-and-modify-headers");
    assertThat(echoed(both, "X-Header-Add")).isEqualTo("header-val-1");
    assertThat(echoed(both, "X-Header-Add-Append")).isEqualTo("append-val-1,header-val-2");
    assertThat(echoed(both, "X-Header-Set")).isEqualTo("set-overwrites-values");
    assertThat(echoed(both, "X-Header-Remove")).isNull();
    // Over HTTP/2 the rewritten host travels upstream (HTTP/1.1) as Host as well.
    Response h2 = probe.sendHttp2(HttpMethod.GET, port, HOST, "/one");
    assertThat(h2.json().getString("host")).isEqualTo("one.example.org");
  }

  @Test
  void urlRewriteReplacesThePathOrItsPrefixAndKeepsTheQuery() {
    fleet.service("default", "infra-backend-v1", 1);
    // HTTPRouteRewritePath
    serve("""
        - matches: [{path: {type: PathPrefix, value: /prefix/one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /one}}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /strip-prefix}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /full/one}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /one}}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /full/rewrite-path-and-modify-headers}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /test}}
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Header-Set, value: set-overwrites-values}]
              add:
              - {name: X-Header-Add, value: header-val-1}
              - {name: X-Header-Add-Append, value: header-val-2}
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /prefix/rewrite-path-and-modify-headers}}]
          filters:
          - type: URLRewrite
            urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /prefix}}
          - type: RequestHeaderModifier
            requestHeaderModifier:
              set: [{name: X-Header-Set, value: set-overwrites-values}]
              add:
              - {name: X-Header-Add, value: header-val-1}
              - {name: X-Header-Add-Append, value: header-val-2}
              remove: [X-Header-Remove]
          backendRefs: [{name: infra-backend-v1, port: 80}]
        """);

    assertThat(get("/prefix/one/two").json().getString("path")).isEqualTo("/one/two");
    assertThat(get("/strip-prefix/three").json().getString("path")).isEqualTo("/three");
    assertThat(get("/strip-prefix").json().getString("path")).isEqualTo("/");
    assertThat(get("/full/one/two").json().getString("path")).isEqualTo("/one");
    assertThat(get("/prefix/one/two?a=1&b").json().getString("path")).isEqualTo("/one/two?a=1&b");
    Response host = get("/strip-prefix/three");
    assertThat(host.json().getString("host")).isEqualTo(HOST);

    for (String[] row : new String[][] {
        {"/full/rewrite-path-and-modify-headers/test", "/test"},
        {"/prefix/rewrite-path-and-modify-headers/one", "/prefix/one"}}) {
      Response response = get(row[0], "X-Header-Remove", "remove-val",
          "X-Header-Add-Append", "append-val-1", "X-Header-Set", "set-val");
      assertThat(response.json().getString("path")).isEqualTo(row[1]);
      assertThat(echoed(response, "X-Header-Add")).isEqualTo("header-val-1");
      assertThat(echoed(response, "X-Header-Add-Append")).isEqualTo("append-val-1,header-val-2");
      assertThat(echoed(response, "X-Header-Set")).isEqualTo("set-overwrites-values");
      assertThat(echoed(response, "X-Header-Remove")).isNull();
    }
  }

  @Test
  void urlRewriteOnBackendRefs() {
    fleet.service("default", "infra-backend-v1", 1);
    // HTTPRouteBackendURLRewrite
    serve("""
        - matches: [{path: {type: PathPrefix, value: /full}}]
          backendRefs:
          - name: infra-backend-v1
            port: 80
            filters:
            - type: URLRewrite
              urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /rewritten-full}}
        - matches: [{path: {type: PathPrefix, value: /prefix}}]
          backendRefs:
          - name: infra-backend-v1
            port: 80
            filters:
            - type: URLRewrite
              urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /rewritten-prefix}}
        """);

    assertThat(get("/full/original").json().getString("path")).isEqualTo("/rewritten-full");
    assertThat(get("/prefix/original").json().getString("path"))
        .isEqualTo("/rewritten-prefix/original");
  }

  @Test
  void aRuleWithAnExtensionRefFilterAnswers500AndTheOthersServe() {
    fleet.service("default", "infra-backend-v1", 1);
    serve("""
        - matches: [{path: {type: PathPrefix, value: /mirror}}]
          filters:
          - type: ExtensionRef
            extensionRef: {group: example.com, kind: Thing, name: t}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /ok}}]
          filters:
          - type: RequestHeaderModifier
            requestHeaderModifier: {set: [{name: X-Ok, value: "yes"}]}
          backendRefs: [{name: infra-backend-v1, port: 80}]
        """);

    // Gateway API: an unresolvable ExtensionRef filter "MUST NOT be skipped", its requests get
    // an error (not a 404, which a catch-all rule elsewhere could turn into a served request).
    assertThat(get("/mirror").status()).isEqualTo(500);
    assertThat(echoed(get("/ok"), "X-Ok")).isEqualTo("yes");
  }

  @Test
  void requestMirrorSendsACopyAndTheClientGetsTheRealAnswer() {
    fleet.service("default", "real", 1).service("default", "shadow", 1).service("default", "half", 1);
    serve("""
        - filters:
          - type: RequestMirror
            requestMirror: {backendRef: {name: shadow, port: 80}}
          - type: RequestMirror
            requestMirror: {backendRef: {name: half, port: 80}, percent: 50}
          - type: RequestMirror
            requestMirror: {backendRef: {name: missing, port: 80}}
          backendRefs: [{name: real, port: 80}]
        """);

    for (int i = 0; i < 200; i++) {
      assertThat(get("/mirrored/" + i).pod()).isEqualTo("real-pod-0");
    }

    var shadow = fleet.servers().get(1);
    TestGateway.awaitCondition("200 copies at the shadow", () -> shadow.requestCount() == 200);
    assertThat(shadow.receivedUris()).contains("/mirrored/0", "/mirrored/199");
    long half = fleet.servers().get(2).requestCount();
    assertThat(half).isBetween(60L, 140L);
    var parents = gateway.portico().state().status().httpRoutes().values().iterator().next()
        .getParents();
    assertThat(parents.get(0).getConditions()).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("ResolvedRefs");
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getMessage()).contains("requestMirror[2].backendRef").contains("missing");
    });
  }

  @Test
  void aMirrorSeesTheRewrittenHostButTheClientsHostInXForwardedHost() throws Exception {
    // The mirror backend records what it receives (the echo pods do not keep headers).
    java.util.concurrent.BlockingQueue<String> seen = new java.util.concurrent.LinkedBlockingQueue<>();
    com.sun.net.httpserver.HttpServer shadow = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    shadow.createContext("/", exchange -> {
      seen.add(exchange.getRequestHeaders().getFirst("Host") + " | "
          + exchange.getRequestHeaders().getFirst("X-Forwarded-Host"));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    shadow.start();
    try {
      fleet.service("default", "real", 1).serviceAt("default", "shadow",
          shadow.getAddress().getPort(), true);
      serve("""
          - filters:
            - type: URLRewrite
              urlRewrite: {hostname: internal.example}
            - type: RequestMirror
              requestMirror: {backendRef: {name: shadow, port: 80}}
            backendRefs: [{name: real, port: 80}]
          """);

      assertThat(get("/").status()).isEqualTo(200);
      String mirrored = seen.poll(10, TimeUnit.SECONDS);
      assertThat(mirrored).isEqualTo("internal.example | " + HOST);
    } finally {
      shadow.stop(0);
    }
  }

  @Test
  void corsPreflightIsAnsweredHereAndAllowedOriginsGetHeaders() {
    fleet.service("default", "web", 1);
    serve("""
        - filters:
          - type: CORS
            cors:
              allowOrigins: ["https://app.example.org", "https://*.partner.example"]
              allowMethods: [GET, PUT]
              allowHeaders: [x-token]
              exposeHeaders: [x-trace]
              allowCredentials: true
              maxAge: 600
          backendRefs: [{name: web, port: 80}]
        """);

    Response preflight = probe.send(HttpMethod.OPTIONS, port, HOST, "/api", headers(
        "Origin", "https://a.b.partner.example", "Access-Control-Request-Method", "PUT"), null);
    assertThat(preflight.status()).isEqualTo(204);
    assertThat(preflight.headers().get("access-control-allow-origin"))
        .isEqualTo("https://a.b.partner.example");
    assertThat(preflight.headers().get("access-control-allow-methods")).isEqualTo("GET, PUT");
    assertThat(preflight.headers().get("access-control-allow-credentials")).isEqualTo("true");
    assertThat(preflight.headers().get("access-control-max-age")).isEqualTo("600");
    assertThat(fleet.servers().get(0).requestCount()).as("preflight not forwarded").isZero();

    Response allowed = get("/api", "Origin", "https://app.example.org");
    assertThat(allowed.status()).isEqualTo(200);
    assertThat(allowed.headers().get("access-control-allow-origin")).isEqualTo("https://app.example.org");
    assertThat(allowed.headers().get("access-control-expose-headers")).isEqualTo("x-trace");

    Response stranger = get("/api", "Origin", "https://evil.example");
    assertThat(stranger.status()).isEqualTo(200);
    assertThat(stranger.headers().contains("access-control-allow-origin")).isFalse();
  }
}
