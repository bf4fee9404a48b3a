package io.portico.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The gRPC statuses Portico answers gRPC calls with, as Envoy maps its local replies. */
class GrpcAnswersTest {

  @ParameterizedTest(name = "{0} -> grpc-status {1}")
  @CsvSource({
      "NO_ROUTE,           12",  // UNIMPLEMENTED: no rule takes the method
      "NO_ENDPOINTS,       14",  // UNAVAILABLE
      "CONNECT_REFUSED,    14",
      "CONNECT_TIMEOUT,    14",
      "UPSTREAM_TLS,       14",
      "RESET,              14",
      "RESPONSE_TIMEOUT,   14",  // Envoy: 504 -> UNAVAILABLE, not DEADLINE_EXCEEDED
      "REQUEST_TIMEOUT,    14",
      "CIRCUIT_OPEN,       14",
      "INVALID_BACKEND,    2",   // UNKNOWN (500)
      "SECURITY_POLICY_NOT_ENFORCED, 2",
      "BAD_REQUEST,        13",  // INTERNAL (400)
      "MISDIRECTED,        2",
  })
  void failureMapsToTheGrpcStatusEnvoyWouldSend(UpstreamFailure failure, int grpcStatus) {
    assertThat(GrpcAnswers.status(failure.status())).isEqualTo(grpcStatus);
  }

  @ParameterizedTest
  @EnumSource(UpstreamFailure.class)
  void everyFailureHasAGrpcStatusOtherThanOk(UpstreamFailure failure) {
    assertThat(GrpcAnswers.status(failure.status())).isBetween(1, 16);
  }

  @ParameterizedTest(name = "''{0}'' -> ''{1}''")
  @CsvSource(delimiter = '|', value = {
      "no route|no route",
      "100% sure|100%25 sure",
      "naïve|na%C3%AFve",
      "tab\there|tab%09here",
  })
  void messageIsPercentEncodedAsGrpcRequires(String message, String encoded) {
    assertThat(GrpcAnswers.message(message)).isEqualTo(encoded);
  }
}
