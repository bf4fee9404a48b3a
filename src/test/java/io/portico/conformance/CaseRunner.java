package io.portico.conformance;

import java.util.List;
import java.util.Map;

/**
 * Runs one case against the suite's Portico: loads its manifests, runs its steps in order
 * (stopping at the first failing one), and restores the base configuration afterwards.
 */
final class CaseRunner {

  private final ConformanceData data;
  private final Infrastructure infrastructure;
  private final ManifestStore store;
  private final ClusterView view;
  private final String controllerName;

  CaseRunner(ConformanceData data, Infrastructure infrastructure, ManifestStore store,
      ClusterView view, String controllerName) {
    this.data = data;
    this.infrastructure = infrastructure;
    this.store = store;
    this.view = view;
    this.controllerName = controllerName;
  }

  /** Runs the case; throws {@link StepFailure} naming the failing step. */
  void run(CaseFile caseFile) {
    try {
      load(caseFile);
      CaseContext context = new CaseContext(view, store, controllerName, infrastructure);
      for (CaseFile.Step step : caseFile.steps()) {
        try {
          runStep(context, step);
        } catch (StepFailure failure) {
          throw new StepFailure(step.describe() + ": " + failure.getMessage());
        } catch (RuntimeException e) {
          throw new StepFailure(step.describe() + ": the runner failed: " + e);
        }
      }
    } finally {
      store.resetToBase();
      view.awaitObjects(store.readableKeys());
    }
  }

  private void load(CaseFile caseFile) {
    List<String> manifests = caseFile.manifests();
    for (String manifest : manifests) {
      if (manifest.equals(ConformanceData.BASE_MANIFEST)) {
        continue;
      }
      List<Map<String, Object>> objects = new java.util.ArrayList<>(
          Yaml.readDocuments(data.manifest(manifest)));
      objects.addAll(infrastructure.endpointSlicesOf(manifest));
      store.writeCaseFile(manifest, objects);
    }
    try {
      view.awaitObjects(store.readableKeys());
    } catch (StepFailure e) {
      throw new StepFailure("loading " + manifests + ": " + e.getMessage() + " ("
          + view.objectDifference(store.readableKeys()) + ")");
    }
  }

  private static void runStep(CaseContext context, CaseFile.Step step) {
    Map<String, Object> body = step.body();
    switch (step.type()) {
      case "note" -> { }
      case "expectAccepted" -> new StatusSteps(context).expectAccepted(body);
      case "expectStatus" -> new StatusSteps(context).expectStatus(body);
      case "expectNamespacesReady" -> new StatusSteps(context).expectNamespacesReady(body);
      case "expectGatewayAddress" -> new StatusSteps(context).expectGatewayAddress(body);
      case "expectGenerationChanged" -> new StatusSteps(context).expectGenerationChanged(body);
      case "expectListenerSetStatus" -> new StatusSteps(context).expectListenerSetStatus(body);
      case "expectAttachedListenerSets" ->
          new StatusSteps(context).expectAttachedListenerSets(body);
      case "expectResponse" -> new ResponseSteps(context).expectResponse(body);
      case "expectRequestError" -> new ResponseSteps(context).expectRequestError(body);
      case "expectHttpFailure" -> new ResponseSteps(context).expectHttpFailure(body);
      case "expectWebSocket" -> new WebSocketSteps(context).expectWebSocket(body);
      case "expectMirror" -> new MirrorSteps(context).expectMirror(body);
      case "expectMirrorPercentage" -> new MirrorSteps(context).expectMirrorPercentage(body);
      case "expectTcp" -> new TcpSteps(context).expectTcp(body);
      case "expectTcpConnect" -> new TcpSteps(context).expectTcpConnect(body);
      case "expectTcpEcho" -> new TcpSteps(context).expectTcpEcho(body);
      case "expectTcpSamples" -> new TcpSteps(context).expectTcpSamples(body);
      case "expectTlsRejected" -> new TcpSteps(context).expectTlsRejected(body);
      case "expectWeights" -> {
        String protocol = String.valueOf(body.get("protocol")).toUpperCase(java.util.Locale.ROOT);
        switch (protocol) {
          case "TCP" -> new TcpSteps(context).expectWeights(body);
          case "GRPC" -> new GrpcSteps(context).expectWeights(body);
          default -> throw new StepFailure("expectWeights with protocol " + body.get("protocol")
              + " is not implemented by the runner");
        }
      }
      case "expectGrpc" -> new GrpcSteps(context).expectGrpc(body);
      case "expectGrpcFailure" -> new GrpcSteps(context).expectGrpcFailure(body);
      case "expectUdpEcho" -> new UdpSteps(context).expectUdpEcho(body);
      case "expectUdpSamples" -> new UdpSteps(context).expectUdpSamples(body);
      case "expectUdpWeights" -> new UdpSteps(context).expectUdpWeights(body);
      case "expectDnsQuery" -> new UdpSteps(context).expectDnsQuery(body);
      case "patch" -> new MutationSteps(context).patch(body);
      case "apply" -> new MutationSteps(context).apply(body);
      case "delete" -> new MutationSteps(context).delete(body);
      case "sleep" -> new MutationSteps(context).sleep(body);
      default -> throw new StepFailure("step type " + step.type()
          + " is not implemented by the runner");
    }
  }
}
