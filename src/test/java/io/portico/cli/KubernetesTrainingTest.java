package io.portico.cli;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ResourceSnapshot;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes half of the training run must really run Kubernetes mode's start and changes
 * (else the archive silently holds less): the provider, against the stand-in API server,
 * delivers the quickstart's objects and one of each other kind it reads, typed as from a
 * cluster, then a snapshot for each change the stand-in's watches carry.
 */
class KubernetesTrainingTest {

  @Test
  void theProviderStartsAgainstTheStandInAndDeliversTheQuickstartThenEachChange()
      throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      KubernetesTraining.Result result =
          KubernetesTraining.exercise(vertx, Path.of("examples", "quickstart"));
      ResourceSnapshot snapshot = result.first();

      assertThat(snapshot).as("the provider's first snapshot").isNotNull();
      assertThat(snapshot.all().stream()
          .map(o -> o.getKind() + "/" + o.getMetadata().getName())
          .collect(Collectors.toSet()))
          .contains("Gateway/public-gateway", "HTTPRoute/web-route", "HTTPRoute/sticky-route",
              "Service/web-service", "BackendTrafficPolicy/sticky-sessions");
      assertThat(snapshot.all()).extracting(HasMetadata::getKind).contains("EndpointSlice",
          "Secret", "GatewayClass");
      // One of each kind the quickstart has none of, read at the version the provider chose.
      assertThat(snapshot.all()).extracting(HasMetadata::getKind).contains("GRPCRoute",
          "TLSRoute", "TCPRoute", "UDPRoute", "ReferenceGrant", "BackendTLSPolicy",
          "ListenerSet", "Backend");
      assertThat(result.changes()).as("watch events that made a snapshot: route added, slice "
          + "added, slice terminating, slice and route deleted").isEqualTo(5);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
    }
  }
}
