package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** Which BackendTrafficPolicy fields Portico reports as not implemented, one row per case. */
class UnimplementedFieldsTest {

  /** Every field Portico implements, set at once (one shape per exclusive choice). */
  private static final String EVERY_IMPLEMENTED_FIELD = """
      targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: r}]
      loadBalancer:
        type: ConsistentHash
        consistentHash:
          type: Cookie
          tableSize: 1031
          cookie: {name: s, ttl: 60s, attributes: {SameSite: Lax}}
      healthCheck:
        panicThreshold: 40
        active:
          type: HTTP
          timeout: 1s
          interval: 2s
          unhealthyThreshold: 2
          healthyThreshold: 1
          http:
            hostname: probe.example.com
            path: /healthz
            method: GET
            expectedStatuses: [200]
            expectedResponse: {type: Text, text: ok}
        passive:
          splitExternalLocalOriginErrors: true
          interval: 1s
          consecutiveLocalOriginFailures: 3
          consecutiveGatewayErrors: 2
          consecutive5XxErrors: 4
          baseEjectionTime: 10s
          maxEjectionPercent: 20
      retry:
        numRetries: 3
        retryOn: {triggers: [connect-failure], httpStatusCodes: [502]}
        perRetry: {timeout: 1s, backOff: {baseInterval: 10ms, maxInterval: 100ms}}
      timeout:
        tcp: {connectTimeout: 2s}
        http: {connectionIdleTimeout: 60s, maxConnectionDuration: 10m, requestTimeout: 30s}
      circuitBreaker:
        maxConnections: 10
        maxPendingRequests: 10
        maxParallelRequests: 10
        maxParallelRetries: 2
        maxRequestsPerConnection: 100
        perEndpoint: {maxConnections: 5}
      http2:
        initialStreamWindowSize: 64Ki
        initialConnectionWindowSize: 1Mi
        maxConcurrentStreams: 50
      """;

  @Test
  void everyFieldThePolicyReadersTakeIsImplemented() {
    Map<String, Object> spec = parse(EVERY_IMPLEMENTED_FIELD);
    GenericKubernetesResource policy = new GenericKubernetesResource();
    policy.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("p").build());
    policy.setAdditionalProperty("spec", spec);

    assertThatCode(() -> TrafficPolicySpec.parse(policy)).as("the readers accept it")
        .doesNotThrowAnyException();
    UnimplementedFields.Report report = UnimplementedFields.of(spec);
    assertThat(report.paths()).isEmpty();
    assertThat(report.appliesAnything()).isTrue();
  }

  static Stream<Arguments> specs() {
    return Stream.of(
        // spec, the fields reported (sorted), whether anything implemented is set
        row("{loadBalancer: {type: Random}}", "", true),
        row("{sessionAffinity: {type: Cookie, cookie: {name: s, ttl: 1h}}}", "", true),
        row("{retry: {}}", "", true),
        row("{targetRef: {kind: HTTPRoute, name: r}}", "", false),
        row("{rateLimit: {type: Local}, targetRef: {kind: HTTPRoute, name: r}}",
            "spec.rateLimit", false),
        row("{rateLimit: null, retry: {numRetries: 1}}", "", true),
        row("{faultInjection: {abort: {httpStatus: 503}}, retry: {}}", "spec.faultInjection",
            true),
        row("""
            {compression: [{type: Gzip}], compressor: [{type: Brotli}], useClientProtocol: true,
             mergeType: StrategicMerge, routingType: Service}""",
            "spec.compression, spec.compressor, spec.mergeType, spec.routingType,"
                + " spec.useClientProtocol", false),
        // Set to what Portico does anyway (Envoy Gateway's defaults), they change nothing.
        row("{useClientProtocol: false, routingType: Endpoint, retry: {numRetries: 1}}", "",
            true),
        row("{useClientProtocol: false, routingType: Endpoint}", "", false),
        row("{useClientProtocol: false, routingType: Service}", "spec.routingType", false),
        row("""
            {responseOverride: [], requestBuffer: {limit: 1Mi}, dns: {}, proxyProtocol: {},
             tcpKeepalive: {}, telemetry: {}, connection: {bufferLimit: 1Mi}, httpUpgrade: [],
             bandwidthLimit: {}, admissionControl: {}}""",
            "spec.admissionControl, spec.bandwidthLimit, spec.connection, spec.dns,"
                + " spec.httpUpgrade, spec.proxyProtocol, spec.requestBuffer,"
                + " spec.responseOverride, spec.tcpKeepalive, spec.telemetry", false),
        row("""
            {loadBalancer: {type: RoundRobin, slowStart: {window: 10s},
             zoneAware: {preferLocal: {}}, endpointOverride: {extractFrom: []}}}""",
            "spec.loadBalancer.endpointOverride, spec.loadBalancer.zoneAware", true),
        row("""
            {loadBalancer: {type: ConsistentHash,
             consistentHash: {type: Headers, headers: [{name: a}, {name: b, extra: 1}]}}}""",
            "spec.loadBalancer.consistentHash.headers[1].extra", true),
        row("{retry: {numAttemptsPerPriority: 2, perRetry: {backOff: {jitter: 1}}}}",
            "spec.retry.numAttemptsPerPriority, spec.retry.perRetry.backOff.jitter", true),
        row("{timeout: {http: {streamIdleTimeout: 1m, maxStreamDuration: 1h}}}",
            "spec.timeout.http.maxStreamDuration, spec.timeout.http.streamIdleTimeout", false),
        row("{timeout: {http: {requestTimeout: 5s, streamIdleTimeout: 1m}}}",
            "spec.timeout.http.streamIdleTimeout", true),
        row("{circuitBreaker: {retryBudget: {percent: {numerator: 20}}}}",
            "spec.circuitBreaker.retryBudget", false),
        row("""
            {healthCheck: {active: {type: HTTP, initialJitter: 1s, overrides: {port: 9},
             healthCheckLog: {}, http: {path: /, retriableStatuses: [503],
             requestBody: {type: Text, text: x}}}}}""",
            "spec.healthCheck.active.healthCheckLog, spec.healthCheck.active.http.requestBody,"
                + " spec.healthCheck.active.http.retriableStatuses,"
                + " spec.healthCheck.active.initialJitter, spec.healthCheck.active.overrides",
            true),
        row("{healthCheck: {passive: {failurePercentageThreshold: 50, alwaysEjectOneEndpoint: 1}}}",
            "spec.healthCheck.passive.alwaysEjectOneEndpoint,"
                + " spec.healthCheck.passive.failurePercentageThreshold", true),
        row("""
            {http2: {maxConcurrentStreams: 10, onInvalidMessage: TerminateStream,
             connectionKeepalive: {interval: 10s}}}""",
            "spec.http2.connectionKeepalive, spec.http2.onInvalidMessage", true),
        row("{loadBalncer: {type: Random}}", "spec.loadBalncer", false));
  }

  private static Arguments row(String spec, String unimplemented, boolean appliesAnything) {
    return Arguments.of(spec.replace("\n", " "), unimplemented, appliesAnything);
  }

  @ParameterizedTest(name = "{0}: not implemented [{1}], anything applied {2}")
  @MethodSource("specs")
  void fieldsPorticoDoesNotImplementAreNamedByPath(String spec, String unimplemented,
      boolean appliesAnything) {
    UnimplementedFields.Report report = UnimplementedFields.of(parse(spec));

    List<String> expected = unimplemented.isEmpty() ? List.of()
        : Arrays.asList(unimplemented.split(", "));
    assertThat(report.paths()).isEqualTo(expected);
    assertThat(report.appliesAnything()).isEqualTo(appliesAnything);
  }

  @Test
  void anUnenforcedProtectionComesFirstInTheMessage() {
    String message = UnimplementedFields.of(parse(
        "{compression: [], rateLimit: {}, retry: {}}")).message();

    assertThat(message).isEqualTo("Protection not enforced: spec.rateLimit (requests are not"
        + " rate limited). Portico does not implement spec.compression, spec.rateLimit: they"
        + " have no effect; the policy's other fields apply");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> parse(String yaml) {
    return new YAMLMapper().readValue(yaml, Map.class);
  }
}
