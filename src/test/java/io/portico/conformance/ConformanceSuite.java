package io.portico.conformance;

import io.portico.Portico;
import io.portico.PorticoOptions;
import io.portico.proxy.ProxyOptions;
import io.portico.translate.TranslatorOptions;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The shared setup of a conformance run: the echo backends, the served directory with the
 * generated certificates and the base manifests, and one Portico serving it for every case.
 */
final class ConformanceSuite implements AutoCloseable {

  static final String CONTROLLER_NAME = TranslatorOptions.DEFAULT_CONTROLLER_NAME;
  /**
   * Every Gateway gets its own loopback address from this block, because several Gateways use
   * port 80; it stays clear of the pods (127.0.1.x, 127.0.2.x) and the static address 127.0.3.1.
   */
  static final String GATEWAY_ADDRESS_POOL = "127.0.10.0/24";

  private final Infrastructure infrastructure;
  private final ManifestStore store;
  private final Portico portico;
  private final ClusterView view;
  private final CaseRunner runner;

  private ConformanceSuite(Infrastructure infrastructure, ManifestStore store, Portico portico,
      ConformanceData data) {
    this.infrastructure = infrastructure;
    this.store = store;
    this.portico = portico;
    this.view = new ClusterView(portico);
    this.runner = new CaseRunner(data, infrastructure, store, view, CONTROLLER_NAME);
  }

  static ConformanceSuite start(ConformanceData data) {
    List<Map<String, Object>> certificates = Certificates.generate(
        Yaml.list(Yaml.readMap(data.infrastructure()).get("generatedSecrets")));
    Infrastructure infrastructure = Infrastructure.start(data.infrastructure(), certificates);
    infrastructure.notes().forEach(note -> System.out.println("conformance: " + note));
    ManifestStore store = new ManifestStore(CONTROLLER_NAME);
    try {
      store.writeBase("00-gatewayclass.yaml", List.of(gatewayClass()));
      store.writeBase("05-certificates.yaml", certificates);
      store.writeBase("10-" + ConformanceData.BASE_MANIFEST,
          Yaml.readDocuments(data.manifest(ConformanceData.BASE_MANIFEST)));
      store.writeBase("20-endpointslices.yaml",
          infrastructure.endpointSlicesOf(ConformanceData.BASE_MANIFEST));
      PorticoOptions options = PorticoOptions.forDirectory(store.directory())
          // Requests go to each Gateway's status.addresses[0], its own address from the pool.
          .withTranslator(new TranslatorOptions(CONTROLLER_NAME, "127.0.0.1")
              .withAddressPool(GATEWAY_ADDRESS_POOL))
          .withProxy(ProxyOptions.DEFAULTS.withBindHost("127.0.0.1")
              .withPortOffset(GatewayAddresses.portOffset()))
          .withAdmin(null, 0)
          .withMetrics(false)
          .withEventLoops(2);
      Portico portico = Portico.start(options).toCompletionStage().toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      ConformanceSuite suite = new ConformanceSuite(infrastructure, store, portico, data);
      suite.awaitBaseReady();
      return suite;
    } catch (Exception e) {
      store.close();
      infrastructure.close();
      throw new IllegalStateException("conformance suite could not start: " + e, e);
    }
  }

  /**
   * Upstream setup waits for the base Gateways to be ready; here a Gateway that never gets
   * ready is reported and left to fail the cases that need it.
   */
  private void awaitBaseReady() {
    view.awaitObjects(store.readableKeys());
    try {
      new StatusSteps(new CaseContext(view, store, CONTROLLER_NAME, infrastructure))
          .expectNamespacesReady(
          Map.of("namespaces", List.of("gateway-conformance-infra",
              "gateway-conformance-app-backend", "gateway-conformance-web-backend")));
    } catch (StepFailure e) {
      System.out.println("conformance: base Gateways not all ready: " + e.getMessage());
    }
  }

  private static Map<String, Object> gatewayClass() {
    return Map.of("apiVersion", "gateway.networking.k8s.io/v1", "kind", "GatewayClass",
        "metadata", Map.of("name", ManifestStore.GATEWAY_CLASS),
        "spec", Map.of("controllerName", CONTROLLER_NAME));
  }

  CaseRunner runner() {
    return runner;
  }

  @Override
  public void close() {
    try {
      portico.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      System.out.println("conformance: Portico did not close cleanly: " + e);
    } finally {
      infrastructure.close();
      store.close();
    }
  }
}
