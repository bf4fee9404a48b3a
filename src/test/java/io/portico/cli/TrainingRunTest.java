package io.portico.cli;

import io.portico.proxy.ProxyEndToEndTest;
import io.portico.testing.TestGateway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The change part of the training run ({@code --exit-when-ready}) must make real changes, each
 * published, so that the class-data archive holds the change paths; and it must make them in a
 * copy, never in the directory it was given (during {@code mvn package}, the repository's
 * {@code examples/quickstart}).
 */
class TrainingRunTest {

  @Test
  void changesAreMadeInACopyAndEachIsPublished(@TempDir Path given) throws Exception {
    Files.writeString(given.resolve("gateway.yaml"), ProxyEndToEndTest.GATEWAY_CLASS + """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: public-gateway, namespace: gateway-system}
        spec:
          gatewayClassName: portico
          listeners:
          - {name: http, protocol: HTTP, port: %d, allowedRoutes: {namespaces: {from: All}}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web-service, namespace: default}
        spec: {ports: [{name: http, port: 8080, targetPort: http}]}
        """.formatted(TestGateway.freePort()));
    Files.createDirectories(given.resolve("more"));
    Files.writeString(given.resolve("more/namespace.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: more}\n");
    Path copy = TrainingRun.scratchCopy(given);
    assertThat(copy).isNotEqualTo(given);
    assertThat(copy.resolve("more/namespace.yaml")).as("subdirectories are copied too")
        .hasSameTextualContentAs(given.resolve("more/namespace.yaml"));

    try (TestGateway gateway = TestGateway.start(copy)) {
      long tables = gateway.tableVersion();
      long endpoints = gateway.portico().state().endpoints().version();

      int published = TrainingRun.exerciseChanges(gateway.portico(), copy);

      assertThat(published).as("route added, pod added, pod terminating, both removed")
          .isEqualTo(4);
      assertThat(gateway.tableVersion()).as("tables: the route added, then removed")
          .isGreaterThanOrEqualTo(tables + 2);
      assertThat(gateway.portico().state().endpoints().version())
          .as("endpoints: the pod added, then terminating").isGreaterThanOrEqualTo(endpoints + 2);
      assertThat(names(copy)).containsExactly("gateway.yaml", "more");
    }
    assertThat(names(given)).as("the given directory is untouched")
        .containsExactly("gateway.yaml", "more");
  }

  private static List<String> names(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(file -> file.getFileName().toString()).sorted().toList();
    }
  }
}
