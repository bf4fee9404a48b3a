package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.ir.BackendKey;
import io.portico.ir.UpstreamTls;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Golden tests of the translator: {@code src/test/resources/translate/<case>.in.yaml} is a
 * standalone configuration, {@code <case>.out.yaml} the routing table and status it must give.
 * Run with {@code -Dportico.golden.update=true} to rewrite the expected files, then read the
 * diff.
 */
class TranslatorGoldenTest {

  private static final Path CASES = Path.of("src", "test", "resources", "translate");
  private static final boolean UPDATE = Boolean.getBoolean("portico.golden.update");
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  static Stream<String> cases() throws IOException {
    try (Stream<Path> files = Files.list(CASES)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".in.yaml"))
          .map(n -> n.substring(0, n.length() - ".in.yaml".length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void translationMatchesGoldenFile(String name) throws IOException {
    String actual = render(translate(CASES.resolve(name + ".in.yaml")));
    Path expectedFile = CASES.resolve(name + ".out.yaml");
    if (UPDATE || !Files.exists(expectedFile)) {
      Files.writeString(expectedFile, actual);
    }
    assertThat(actual).isEqualTo(Files.readString(expectedFile));
  }

  /** Reads a standalone configuration file the way the file provider does. */
  static ResourceSnapshot snapshot(Path file) throws IOException {
    YamlResourceReader.ReadResult result =
        new YamlResourceReader().read(file.getFileName().toString(), Files.readString(file));
    assertThat(result.problems()).as("problems reading %s", file).isEmpty();
    List<HasMetadata> objects = new ArrayList<>();
    result.objects().forEach(o -> objects.add(o.object()));
    return ResourceSnapshot.of(objects);
  }

  /**
   * Translates a case file; a first line {@code # address-pool: CIDR} runs the translator with
   * that Gateway address pool.
   */
  static Translation translate(Path file) throws IOException {
    TranslatorOptions options = TranslatorOptions.DEFAULTS;
    String first = Files.readAllLines(file).get(0);
    if (first.startsWith("# address-pool: ")) {
      options = options.withAddressPool(first.substring("# address-pool: ".length()).trim());
    }
    ResourceSnapshot snapshot = snapshot(file);
    upstreamTls = EndpointsBuilder.build(snapshot).upstreamTls();
    return new Translator(options).translate(snapshot);
  }

  /** The upstream TLS settings of the last translated case (not part of the routing table). */
  private static Map<BackendKey, UpstreamTls> upstreamTls = Map.of();

  /**
   * GatewayClass status without {@code supportedFeatures}: the same list in every file, which
   * {@link SupportedFeaturesTest} checks once, so that claiming a feature rewrites no golden.
   */
  private static Object withoutSupportedFeatures(Object status) {
    if (status instanceof io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatus gc) {
      return new io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClassStatusBuilder(gc)
          .withSupportedFeatures((List<io.fabric8.kubernetes.api.model.gatewayapi.v1.SupportedFeature>) null)
          .build();
    }
    return status;
  }

  static String render(Translation translation) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("routingTable", translation.table());
    Map<String, Object> status = new LinkedHashMap<>();
    translation.status().all().forEach((key, value) -> status.put(key.toString(),
        withoutSupportedFeatures(value)));
    out.put("status", status);
    if (!upstreamTls.isEmpty()) {
      Map<String, Object> tls = new TreeMap<>();
      upstreamTls.forEach((key, value) -> tls.put(key.toString(), value));
      out.put("upstreamTls", tls);
    }
    return SERIALIZATION.asYaml(out);
  }
}
