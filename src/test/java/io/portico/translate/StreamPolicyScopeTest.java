package io.portico.translate;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which BackendTrafficPolicy fields a TLS, TCP or UDP route takes, one row per field. */
class StreamPolicyScopeTest {

  @ParameterizedTest(name = "{0} on a {1}: not applied [{2}], anything applied {3}")
  @CsvSource(delimiter = '|', value = {
      "{loadBalancer: {type: Random}}                                          | TCPRoute | ''| true",
      "{loadBalancer: {type: LeastRequest}}                                    | UDPRoute | ''| true",
      "{loadBalancer: {type: ConsistentHash, consistentHash: {type: SourceIP}}} | TLSRoute | ''| true",
      "{loadBalancer: {type: ConsistentHash, consistentHash: {type: Header}}}   | TCPRoute | spec.loadBalancer.consistentHash.type: Header | false",
      "{loadBalancer: {type: RoundRobin, slowStart: {window: 10s}}}            | TCPRoute | spec.loadBalancer.slowStart | true",
      "{sessionAffinity: {type: SourceIP}}                                     | UDPRoute | ''| true",
      "{sessionAffinity: {type: Cookie}}                                       | TCPRoute | spec.sessionAffinity.type: Cookie | false",
      "{healthCheck: {active: {type: TCP}}}                                    | TCPRoute | ''| true",
      "{healthCheck: {active: {type: TCP}}}                                    | UDPRoute | spec.healthCheck | false",
      "{circuitBreaker: {maxConnections: 5, maxPendingRequests: 1}}            | TCPRoute | spec.circuitBreaker.maxPendingRequests | true",
      "{circuitBreaker: {maxConnections: 5}}                                   | UDPRoute | spec.circuitBreaker | false",
      "{timeout: {tcp: {connectTimeout: 1s}, http: {requestTimeout: 5s}}}      | TLSRoute | spec.timeout.http | true",
      "{timeout: {tcp: {connectTimeout: 1s}}}                                  | UDPRoute | spec.timeout.tcp | false",
      "{retry: {numRetries: 2}}                                                | TCPRoute | spec.retry | false",
      "{rateLimit: {}, targetRef: {kind: TCPRoute, name: x}}                   | TCPRoute | spec.rateLimit | false",
  })
  void streamRoutesTakeWhatAppliesToAConnection(String spec, String kind, String inapplicable,
      boolean appliesAnything) {
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = new YAMLMapper().readValue(spec, Map.class);
    StreamPolicyScope.Scope scope = StreamPolicyScope.of(parsed, kind);
    List<String> expected = inapplicable.isEmpty() ? List.of()
        : Arrays.asList(inapplicable.split(", (?=spec)"));
    assertThat(scope.inapplicable()).isEqualTo(expected);
    assertThat(scope.appliesAnything()).isEqualTo(appliesAnything);
  }
}
