package io.portico.resource;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ReferenceGrant;
import io.portico.resource.ConfigProblem.Severity;
import io.portico.resource.YamlResourceReader.LocatedObject;
import io.portico.resource.YamlResourceReader.ReadResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlResourceReaderTest {

  private final YamlResourceReader reader = new YamlResourceReader();

  @TempDir Path dir;

  /** Writes the content to a real file and reads it back, as the file provider does. */
  private ReadResult readFile(String name, String content) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, content);
    return reader.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
  }

  private static final String GATEWAY = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: Gateway
      metadata:
        name: gw
        namespace: infra
      spec:
        gatewayClassName: portico
        listeners:
        - name: http
          port: 8080
          protocol: HTTP
      """;

  @Test
  void anAliasBombFileIsRefusedWithAProblemNamingIt() throws Exception {
    // "Billion laughs": nine levels of ten aliases would expand to 10^9 strings.
    StringBuilder bomb = new StringBuilder("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: bomb, namespace: default}
        data:
          a0: &a0 "lol"
        """);
    for (int level = 1; level <= 9; level++) {
      bomb.append("  a").append(level).append(": &a").append(level).append(" [");
      for (int i = 0; i < 10; i++) {
        bomb.append(i == 0 ? "" : ", ").append("*a").append(level - 1);
      }
      bomb.append("]\n");
    }
    ReadResult result = readFile("bomb.yaml", GATEWAY + "---\n" + bomb);

    // Refused at once, as a file that does not parse: the provider keeps its last good version.
    assertThat(result.parsed()).isFalse();
    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().satisfies(problem ->
        assertThat(problem.toString()).contains("bomb.yaml").contains("too many events to replay"));
  }

  @Test
  void readsEveryDocumentOfAMultiDocumentFileWithTheLineWhereEachStarts() throws Exception {
    ReadResult result = readFile("all.yaml", """
        # a comment before the first document
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: portico
        spec:
          controllerName: portico.io/gateway
        ---
        """ + GATEWAY + """
        ---
        # an empty document is skipped
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
        spec:
          ports:
          - port: 80
        """);

    assertThat(result.parsed()).isTrue();
    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).extracting(o -> (Object) o.object().getClass())
        .containsExactly(GatewayClass.class, Gateway.class, Service.class);
    assertThat(result.objects()).extracting(LocatedObject::line).containsExactly(3, 10, 24);
    assertThat(result.objects()).allSatisfy(o -> assertThat(o.file()).endsWith("all.yaml"));
    Gateway gateway = (Gateway) result.objects().get(1).object();
    assertThat(gateway.getSpec().getListeners().get(0).getPort()).isEqualTo(8080);
  }

  @Test
  void readsTheItemsOfAKindListWithTheLineOfEachItem() throws Exception {
    ReadResult result = readFile("list.yaml", """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Service
          metadata:
            name: a
        - apiVersion: v1
          kind: Service
          metadata:
            name: b
        """);

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).extracting(o -> o.object().getMetadata().getName())
        .containsExactly("a", "b");
    assertThat(result.objects()).extracting(LocatedObject::line).containsExactly(4, 8);
  }

  @Test
  void readsJsonFiles() throws Exception {
    ReadResult result = readFile("svc.json", """
        {
        \t"apiVersion": "v1",
        \t"kind": "Service",
        \t"metadata": {"name": "echo", "namespace": "apps"}
        }
        """);

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).singleElement()
        .satisfies(o -> assertThat(o.key()).isEqualTo(new ObjectKey("Service", "apps", "echo")));
  }

  @Test
  void v1beta1ReferenceGrantBecomesTheV1Class() throws Exception {
    ReadResult result = readFile("grant.yaml", """
        apiVersion: gateway.networking.k8s.io/v1beta1
        kind: ReferenceGrant
        metadata:
          name: allow
          namespace: apps
        spec:
          from:
          - group: gateway.networking.k8s.io
            kind: HTTPRoute
            namespace: infra
          to:
          - group: ""
            kind: Service
        """);

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).singleElement().satisfies(o -> {
      assertThat(o.object()).isInstanceOf(ReferenceGrant.class);
      assertThat(o.object().getApiVersion()).isEqualTo("gateway.networking.k8s.io/v1");
      assertThat(((ReferenceGrant) o.object()).getSpec().getFrom().get(0).getNamespace())
          .isEqualTo("infra");
    });
  }

  @Test
  void objectsWithoutNamespaceLandInDefaultExceptClusterScopedOnes() throws Exception {
    ReadResult result = readFile("ns.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: route
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata:
          name: portico
          namespace: ignored
        spec:
          controllerName: portico.io/gateway
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: apps
        """);

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).extracting(o -> o.object().getMetadata().getNamespace())
        .containsExactly("default", null, null);
    assertThat(result.objects()).extracting(o -> (Object) o.object().getClass())
        .containsExactly(HTTPRoute.class, GatewayClass.class, Namespace.class);
  }

  @Test
  void envoyGatewayKindsBecomeGenericResources() throws Exception {
    ReadResult result = readFile("backend.yaml", """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: Backend
        metadata:
          name: ext
        spec:
          endpoints:
          - fqdn:
              hostname: example.com
              port: 443
        """);

    assertThat(result.problems()).isEmpty();
    assertThat(result.objects()).singleElement().satisfies(o -> {
      assertThat(o.object()).isInstanceOf(GenericKubernetesResource.class);
      assertThat(ResourceSnapshot.isEnvoyBackend(o.object())).isTrue();
      assertThat(o.object().getMetadata().getNamespace()).isEqualTo("default");
    });
  }

  @Test
  void unknownKindIsSkippedWithAWarning() throws Exception {
    ReadResult result = readFile("deploy.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        """);

    assertThat(result.parsed()).isTrue();
    assertThat(result.objects()).extracting(o -> o.object().getKind()).containsExactly("Service");
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(Severity.WARNING);
      assertThat(p.line()).isEqualTo(1);
      assertThat(p.message())
          .isEqualTo("ignored: kind Deployment (apiVersion apps/v1) is not read by Portico");
    });
  }

  @Test
  void invalidObjectIsRejectedWithFileAndLineWhileItsSiblingsLoad() throws Exception {
    ReadResult result = readFile("mixed.yaml", """
        apiVersion: v1
        kind: Service
        metadata:
          name: first
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: broken
        spec:
          gatewayClassName: portico
          listeners:
          - name: http
            port: 70000
            protocol: HTTP
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: last
        """);

    assertThat(result.parsed()).isTrue();
    assertThat(result.objects()).extracting(o -> o.object().getMetadata().getName())
        .containsExactly("first", "last");
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(Severity.ERROR);
      assertThat(p.file()).endsWith("mixed.yaml");
      assertThat(p.line()).isEqualTo(6);
      assertThat(p.toString()).endsWith("mixed.yaml:6: Gateway/default/broken:"
          + " spec.listeners[0].port must be between 1 and 65535, not 70000");
    });
    assertThat(result.rejected()).singleElement()
        .satisfies(r -> assertThat(r.key())
            .isEqualTo(new ObjectKey("Gateway", "default", "broken")));
  }

  @Test
  void fieldOfTheWrongTypeIsRejectedNamingTheFieldPath() throws Exception {
    ReadResult result = readFile("types.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: gw
        spec:
          gatewayClassName: portico
          listeners:
          - name: http
            port: eighty
            protocol: HTTP
        """);

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.line()).isEqualTo(1);
      assertThat(p.message()).startsWith("Gateway/default/gw: spec.listeners[0].port: wrong type");
    });
  }

  @Test
  void backendTrafficPolicyOfTheWrongShapeIsRejectedAndTheOthersKept() throws Exception {
    ReadResult result = readFile("policies.yaml", """
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: string-target}
        spec:
          targetRef: "HTTPRoute/web"
          loadBalancer: [1, 2]
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: no-spec}
        spec: nope
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: no-target}
        spec:
          retry: {numRetries: 2}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: refs-not-a-list}
        spec:
          targetRefs: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}
        ---
        apiVersion: gateway.envoyproxy.io/v1alpha1
        kind: BackendTrafficPolicy
        metadata: {name: good}
        spec:
          targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: web}]
        """);

    assertThat(result.objects()).singleElement()
        .satisfies(o -> assertThat(o.object().getMetadata().getName()).isEqualTo("good"));
    assertThat(result.problems()).extracting(ConfigProblem::message).containsExactly(
        "BackendTrafficPolicy/default/string-target: spec.targetRef must be an object;"
            + " spec.loadBalancer must be an object",
        "BackendTrafficPolicy/default/no-spec: spec must be an object",
        "BackendTrafficPolicy/default/no-target: one of spec.targetRef, spec.targetRefs or"
            + " spec.targetSelectors is required",
        "BackendTrafficPolicy/default/refs-not-a-list: spec.targetRefs must be a list");
  }

  @Test
  void gatewayWithoutClassOrListenersIsRejected() throws Exception {
    ReadResult result = readFile("gw.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: gw
        spec:
          listeners:
          - port: 80
        """);

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().extracting(ConfigProblem::message)
        .isEqualTo("Gateway/default/gw: spec.gatewayClassName is required;"
            + " spec.listeners[0].name is required; spec.listeners[0].protocol is required");
  }

  @Test
  void missingApiVersionKindOrNameAndBadNamesAreRejected() throws Exception {
    ReadResult result = readFile("bad.yaml", """
        kind: Service
        metadata:
          name: a
        ---
        apiVersion: v1
        metadata:
          name: b
        ---
        apiVersion: v1
        kind: Service
        metadata:
          namespace: x
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: Not_A_Name
        """);

    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).extracting(ConfigProblem::toString).containsExactly(
        dir.resolve("bad.yaml") + ":1: Service \"a\": apiVersion is required",
        dir.resolve("bad.yaml") + ":5: object \"b\": kind is required",
        dir.resolve("bad.yaml") + ":9: Service: metadata.name is required",
        dir.resolve("bad.yaml") + ":14: Service/default/Not_A_Name: metadata.name \"Not_A_Name\""
            + " is not a DNS-1123 subdomain (lower case letters, digits, '-' and '.', starting"
            + " and ending with a letter or digit, at most 253 characters)");
  }

  @Test
  void syntaxErrorFailsTheWholeFileWithTheLineOfTheError() throws Exception {
    ReadResult result = readFile("broken.yaml", """
        apiVersion: v1
        kind: Service
        metadata:
          name: fine
        ---
        apiVersion: v1
        kind: Service
         metadata:
          name: broken
        """);

    assertThat(result.parsed()).isFalse();
    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).singleElement().satisfies(p -> {
      assertThat(p.severity()).isEqualTo(Severity.ERROR);
      assertThat(p.line()).isEqualTo(8);
      assertThat(p.message()).startsWith("syntax error: ").doesNotContain("\n");
    });
  }

  @Test
  void duplicateKeyFailsTheFile() throws Exception {
    ReadResult result = readFile("dup.yaml", """
        apiVersion: v1
        kind: Service
        metadata:
          name: a
          name: b
        """);

    assertThat(result.parsed()).isFalse();
    assertThat(result.problems()).singleElement()
        .satisfies(p -> assertThat(p.line()).isEqualTo(5));
  }

  @Test
  void scalarDocumentIsAnError() {
    ReadResult result = reader.read("x.yaml", "just text\n");

    assertThat(result.parsed()).isTrue();
    assertThat(result.problems()).extracting(ConfigProblem::toString)
        .containsExactly(
            "x.yaml:1: a document must be a Kubernetes object (a mapping), not string");
  }

  @Test
  void emptyFileHasNothingAndNoProblems() {
    ReadResult result = reader.read("empty.yaml", "# nothing yet\n");

    assertThat(result.parsed()).isTrue();
    assertThat(result.objects()).isEmpty();
    assertThat(result.problems()).isEmpty();
  }

  @Test
  void readNeverThrows() {
    List<String> inputs = List.of("\u0000\u0001", "{", "[1, 2", "a: [", ": :", "- - -\n  x",
        "!!binary x",
        "apiVersion: v1\nkind: Service\nmetadata: 3\n", "apiVersion: 1\nkind: [a]\n",
        "apiVersion: v1\nkind: List\nitems: [1, {kind: X}]\n");
    for (String input : inputs) {
      assertThat(reader.read("f.yaml", input)).isNotNull();
      assertThat(reader.read("f.json", input)).isNotNull();
    }
  }
}
