package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GRPCRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.resource.ResourceSnapshot;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A translator that reuses what it compiled last time ({@link CompiledRoutes}) must give exactly
 * what a translation from scratch gives: table and status. Each golden case's objects go through
 * a random sequence of changes (objects removed, added back, replaced by equal copies, routes
 * edited and re-dated); after each, one long-lived translator and a new one must agree.
 */
class TranslatorIncrementalTest {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final int STEPS = 40;

  static Stream<String> cases() throws IOException {
    return TranslatorGoldenTest.cases();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void randomChangesTranslateAsFromScratch(String name) throws IOException {
    ResourceSnapshot base = TranslatorGoldenTest.snapshot(
        Path.of("src", "test", "resources", "translate", name + ".in.yaml"));
    List<HasMetadata> objects = new ArrayList<>(all(base));
    List<HasMetadata> removed = new ArrayList<>();
    Random random = new Random(name.hashCode());
    Translator incremental = new Translator(TranslatorOptions.DEFAULTS);
    for (int step = 0; step < STEPS; step++) {
      String change = change(objects, removed, random);
      ResourceSnapshot snapshot = ResourceSnapshot.of(objects);
      Translation fromScratch = new Translator(TranslatorOptions.DEFAULTS).translate(snapshot);
      Translation reused = incremental.translate(snapshot);
      String where = name + ", step " + step + " (" + change + ")";
      assertThat(TranslatorGoldenTest.render(reused)).as(where)
          .isEqualTo(TranslatorGoldenTest.render(fromScratch));
      assertThat(reused.table()).as(where).isEqualTo(fromScratch.table());
      assertThat(reused.status()).as(where).isEqualTo(fromScratch.status());
    }
  }

  @Test
  void changingOneRouteCompilesThatRouteAlone() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(20);

    int i = indexOf(objects, "route-7");
    objects.set(i, withHostname((HTTPRoute) objects.get(i), "seven.example.com"));
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(21);

    objects.remove(indexOf(objects, "route-3"));
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).as("a deleted route compiles nothing")
        .isEqualTo(21);
  }

  @Test
  void changingOneRouteAttachesThatRouteAlone() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeAttachments()).isEqualTo(20);

    int i = indexOf(objects, "route-7");
    objects.set(i, withHostname((HTTPRoute) objects.get(i), "seven.example.com"));
    Translation changed = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeAttachments()).isEqualTo(21);
    assertThat(changed.status().httpRoutes()).hasSize(20);

    objects.remove(indexOf(objects, "route-3"));
    Translation removed = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeAttachments()).as("a deleted route attaches nothing")
        .isEqualTo(21);
    assertThat(removed.status().httpRoutes()).hasSize(19)
        .doesNotContainKey(new io.portico.resource.ObjectKey("HTTPRoute", "default", "route-3"));
  }

  @Test
  void changingOneRouteBuildsItsVirtualHostAlone() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    Translation first = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.virtualHostBuilds()).isEqualTo(20);

    int i = indexOf(objects, "route-7");
    objects.set(i, withHostname((HTTPRoute) objects.get(i), "seven.example.com"));
    Translation changed = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.virtualHostBuilds()).as("seven.example.com; r7 is gone")
        .isEqualTo(21);
    var before = first.table().httpPorts().get(0).listeners().get(0).findVirtualHost(
        "r8.example.com");
    var after = changed.table().httpPorts().get(0).listeners().get(0).findVirtualHost(
        "r8.example.com");
    assertThat(after).as("shared by the old and the new table").isSameAs(before);
  }

  /**
   * Routes only come, go and change on two listeners, with hostnames that overlap (exact names,
   * wildcards over them, none at all): the virtual hosts a long-lived translator updates must be
   * those a fresh one builds.
   */
  @Test
  void routeChurnOverOverlappingHostnamesTranslatesAsFromScratch() {
    String[] hostnames = {"a.example.com", "b.example.com", "*.example.com", "x.a.example.com",
        "*.a.example.com", "other.org", "*.org"};
    Random random = new Random(11);
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(0)));
    int gateway = indexOf(objects, "gw");
    Gateway withTwo = (Gateway) SERIALIZATION.clone(objects.get(gateway));
    var second = SERIALIZATION.clone(withTwo.getSpec().getListeners().get(0));
    second.setName("wild");
    second.setHostname("*.example.com");
    second.setPort(8081);
    withTwo.getSpec().getListeners().add(second);
    objects.set(gateway, withTwo);
    Translator incremental = new Translator(TranslatorOptions.DEFAULTS);
    int next = 0;
    for (int step = 0; step < 300; step++) {
      List<Integer> routes = new ArrayList<>();
      for (int k = 0; k < objects.size(); k++) {
        if (objects.get(k) instanceof HTTPRoute) {
          routes.add(k);
        }
      }
      int kind = random.nextInt(4);
      String change;
      if (kind == 0 || routes.size() < 3) {
        objects.add(route(next++, hostnames, random));
        change = "added";
      } else if (kind == 1) {
        change = "removed " + objects.remove((int) routes.get(random.nextInt(routes.size())))
            .getMetadata().getName();
      } else {
        int k = routes.get(random.nextInt(routes.size()));
        HTTPRoute edited = route(0, hostnames, random);
        edited.getMetadata().setName(objects.get(k).getMetadata().getName());
        if (kind == 3) {
          edited.getMetadata().setCreationTimestamp(
              objects.get(k).getMetadata().getCreationTimestamp());
        }
        objects.set(k, edited);
        change = "replaced " + edited.getMetadata().getName();
      }
      ResourceSnapshot snapshot = ResourceSnapshot.of(objects);
      Translation fromScratch = new Translator(TranslatorOptions.DEFAULTS).translate(snapshot);
      Translation reused = incremental.translate(snapshot);
      String where = "step " + step + " (" + change + ")";
      assertThat(TranslatorGoldenTest.render(reused)).as(where)
          .isEqualTo(TranslatorGoldenTest.render(fromScratch));
      assertThat(reused.table()).as(where).isEqualTo(fromScratch.table());
      assertThat(reused.status()).as(where).isEqualTo(fromScratch.status());
      // The host index is left out of a listener's equality: compare what it finds.
      for (String host : List.of("a.example.com", "q.a.example.com", "x.a.example.com",
          "zz.example.com", "other.org", "x.org", "nothing.net")) {
        assertThat(found(reused, host)).as(where + ", " + host)
            .isEqualTo(found(fromScratch, host));
      }
    }
    assertThat(incremental.routeAttachments()).as("routes attached again only when changed")
        .isLessThan(300 + 3);
  }

  /** The virtual host every listener finds for {@code host}, by listener. */
  private static List<String> found(Translation translation, String host) {
    List<String> found = new ArrayList<>();
    translation.table().httpPorts().forEach(port -> port.listeners().forEach(listener -> {
      var virtualHost = listener.findVirtualHost(host);
      found.add(listener.name() + " " + (virtualHost == null ? null : virtualHost.hostname()));
    }));
    return found;
  }

  /** An HTTPRoute with one to three of {@code hostnames} (or none) and a random path. */
  private static HTTPRoute route(int n, String[] hostnames, Random random) {
    List<String> names = new ArrayList<>();
    int count = random.nextInt(4);
    for (int k = 0; k < count; k++) {
      String name = hostnames[random.nextInt(hostnames.length)];
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    String yaml = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: churn-%d, namespace: default, creationTimestamp: "2026-01-0%dT00:00:00Z"}
        spec:
          parentRefs: [{name: gw}]
          hostnames: %s
          rules:
          - matches: [{path: {type: %s, value: /%s}}]
            backendRefs: [{name: svc, port: 80}]
        """.formatted(n, 1 + random.nextInt(3), names.stream().map(h -> "'" + h + "'").toList(),
        random.nextBoolean() ? "PathPrefix" : "Exact", "p" + random.nextInt(3));
    var result = new io.portico.resource.YamlResourceReader().read("route.yaml", yaml);
    assertThat(result.problems()).isEmpty();
    return (HTTPRoute) result.objects().get(0).object();
  }

  @Test
  void aGatewayStatusEchoCompilesAndAttachesNothing() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    Translation first = translator.translate(ResourceSnapshot.of(objects));

    // Kubernetes mode: the status Portico wrote comes back as a new copy of the Gateway.
    int i = indexOf(objects, "gw");
    Gateway echo = (Gateway) SERIALIZATION.clone(objects.get(i));
    echo.setStatus(first.status().gateways().values().iterator().next());
    echo.getMetadata().setResourceVersion("2");
    objects.set(i, echo);
    objects.add(all(manyRoutes(21)).stream()
        .filter(o -> o.getMetadata().getName().equals("route-20")).findFirst().orElseThrow());
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(21);
    assertThat(translator.routeAttachments()).isEqualTo(21);
    assertThat(translator.virtualHostBuilds()).isEqualTo(21);
  }

  @Test
  void changingAGatewayAttachesEveryRouteAgain() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    translator.translate(ResourceSnapshot.of(objects));

    int i = indexOf(objects, "gw");
    objects.set(i, edited(objects.get(i), new Random(1)));
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeAttachments()).isEqualTo(40);
  }

  @Test
  void rotatingAListenerCertificateCompilesAttachesAndBuildsNothing() {
    String https = """
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: secure, namespace: default}
        spec:
          gatewayClassName: portico
          listeners:
          - name: https
            port: 8443
            protocol: HTTPS
            tls: {certificateRefs: [{name: cert}]}
        ---
        """;
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    objects.addAll(read(https + io.portico.testing.TestCertificates.selfSigned("a.example.com")
        .secretYaml("default", "cert")));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    Translation first = translator.translate(ResourceSnapshot.of(objects));
    long compilations = translator.routeCompilations();
    long attachments = translator.routeAttachments();
    long builds = translator.virtualHostBuilds();

    // A new key and certificate in the same Secret: only the listener's certificate changes.
    int i = indexOf(objects, "cert");
    objects.set(i, read(io.portico.testing.TestCertificates.selfSigned("b.example.com")
        .secretYaml("default", "cert")).get(0));
    Translation rotated = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(compilations);
    assertThat(translator.routeAttachments()).isEqualTo(attachments);
    assertThat(translator.virtualHostBuilds()).isEqualTo(builds);
    assertThat(rotated.table()).isNotEqualTo(first.table());
    assertThat(rotated.table()).isEqualTo(
        new Translator(TranslatorOptions.DEFAULTS).translate(ResourceSnapshot.of(objects)).table());

    // The Secret gone: the listener stops being served; nothing is compiled or attached again.
    objects.remove(i);
    Translation gone = translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(compilations);
    assertThat(translator.routeAttachments()).isEqualTo(attachments);
    assertThat(gone.status()).isEqualTo(
        new Translator(TranslatorOptions.DEFAULTS).translate(ResourceSnapshot.of(objects)).status());
  }

  private static List<HasMetadata> read(String yaml) {
    var result = new io.portico.resource.YamlResourceReader().read("extra.yaml", yaml);
    assertThat(result.problems()).isEmpty();
    List<HasMetadata> objects = new ArrayList<>();
    result.objects().forEach(o -> objects.add(o.object()));
    return objects;
  }

  @Test
  void changingAServiceCompilesEveryRouteAgain() {
    List<HasMetadata> objects = new ArrayList<>(all(manyRoutes(20)));
    Translator translator = new Translator(TranslatorOptions.DEFAULTS);
    translator.translate(ResourceSnapshot.of(objects));

    int i = indexOf(objects, "svc");
    objects.set(i, edited(objects.get(i), new Random(1)));
    translator.translate(ResourceSnapshot.of(objects));
    assertThat(translator.routeCompilations()).isEqualTo(40);
  }

  /** Applies one random change to {@code objects}; returns what it was. */
  private static String change(List<HasMetadata> objects, List<HasMetadata> removed,
      Random random) {
    int kind = random.nextInt(5);
    if (kind == 0 && !removed.isEmpty()) {
      HasMetadata back = removed.remove(random.nextInt(removed.size()));
      objects.add(random.nextInt(objects.size() + 1), back);
      return "added back " + describe(back);
    }
    if (objects.isEmpty()) {
      return "nothing";
    }
    int i = random.nextInt(objects.size());
    HasMetadata object = objects.get(i);
    switch (kind) {
      case 1 -> {
        removed.add(objects.remove(i));
        return "removed " + describe(object);
      }
      case 2 -> {
        // Also what Kubernetes mode sees after a status write: a copy, another resourceVersion.
        HasMetadata copy = SERIALIZATION.clone(object);
        copy.getMetadata().setResourceVersion(Integer.toString(random.nextInt(1000)));
        objects.set(i, copy);
        return "equal copy of " + describe(object);
      }
      case 3 -> {
        HasMetadata copy = SERIALIZATION.clone(object);
        copy.getMetadata().setCreationTimestamp(
            "2026-01-0" + (1 + random.nextInt(3)) + "T00:00:00Z");
        objects.set(i, copy);
        return "re-dated " + describe(object);
      }
      default -> {
        HasMetadata edited = edited(object, random);
        objects.set(i, edited);
        return "edited " + describe(object);
      }
    }
  }

  /** A copy of a route with one rule fewer or one hostname more; other kinds re-labelled. */
  private static HasMetadata edited(HasMetadata object, Random random) {
    HasMetadata copy = SERIALIZATION.clone(object);
    if (copy instanceof HTTPRoute route && route.getSpec() != null) {
      if (random.nextBoolean() && route.getSpec().getRules() != null
          && !route.getSpec().getRules().isEmpty()) {
        route.getSpec().getRules().remove(route.getSpec().getRules().size() - 1);
      } else {
        List<String> hostnames = route.getSpec().getHostnames() == null ? new ArrayList<>()
            : new ArrayList<>(route.getSpec().getHostnames());
        hostnames.add("edited" + random.nextInt(3) + ".example.com");
        route.getSpec().setHostnames(hostnames);
      }
    } else if (copy instanceof GRPCRoute route && route.getSpec() != null
        && route.getSpec().getRules() != null && !route.getSpec().getRules().isEmpty()) {
      route.getSpec().getRules().remove(0);
    } else if (copy instanceof io.fabric8.kubernetes.api.model.Secret secret
        && secret.getData() != null && random.nextBoolean()) {
      // Its certificate replaced by something that is not one (the listener's ResolvedRefs).
      java.util.Map<String, String> data = new java.util.HashMap<>(secret.getData());
      data.put("tls.crt", java.util.Base64.getEncoder().encodeToString(
          "not a certificate".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      secret.setData(data);
    } else if (copy instanceof Service service && service.getSpec() != null
        && service.getSpec().getPorts() != null && !service.getSpec().getPorts().isEmpty()) {
      service.getSpec().getPorts().get(0).setPort(service.getSpec().getPorts().get(0).getPort() + 1);
    } else {
      copy.getMetadata().setLabels(java.util.Map.of("edited", "yes"));
    }
    return copy;
  }

  private static String describe(HasMetadata object) {
    return object.getKind() + " " + object.getMetadata().getNamespace() + "/"
        + object.getMetadata().getName();
  }

  private static int indexOf(List<HasMetadata> objects, String name) {
    for (int i = 0; i < objects.size(); i++) {
      if (objects.get(i).getMetadata().getName().equals(name)) {
        return i;
      }
    }
    throw new AssertionError("no object " + name);
  }

  private static HTTPRoute withHostname(HTTPRoute route, String hostname) {
    HTTPRoute copy = SERIALIZATION.clone(route);
    copy.getSpec().setHostnames(List.of(hostname));
    return copy;
  }

  /** A Gateway, one Service and {@code n} HTTPRoutes to it, one hostname each. */
  private static ResourceSnapshot manyRoutes(int n) {
    StringBuilder yaml = new StringBuilder("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: portico}
        spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: gw, namespace: default}
        spec:
          gatewayClassName: portico
          listeners: [{name: http, port: 8080, protocol: HTTP}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc, namespace: default}
        spec: {ports: [{port: 80}]}
        """);
    for (int i = 0; i < n; i++) {
      yaml.append("""
          ---
          apiVersion: gateway.networking.k8s.io/v1
          kind: HTTPRoute
          metadata: {name: route-%d, namespace: default}
          spec:
            parentRefs: [{name: gw}]
            hostnames: [r%d.example.com]
            rules: [{backendRefs: [{name: svc, port: 80}]}]
          """.formatted(i, i));
    }
    var result = new io.portico.resource.YamlResourceReader().read("many.yaml", yaml.toString());
    assertThat(result.problems()).isEmpty();
    List<HasMetadata> objects = new ArrayList<>();
    result.objects().forEach(o -> objects.add(o.object()));
    return ResourceSnapshot.of(objects);
  }

  private static List<HasMetadata> all(ResourceSnapshot snapshot) {
    List<HasMetadata> objects = new ArrayList<>();
    for (var component : ResourceSnapshot.class.getRecordComponents()) {
      try {
        for (Object o : (List<?>) component.getAccessor().invoke(snapshot)) {
          objects.add((HasMetadata) o);
        }
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
    }
    return objects;
  }
}
