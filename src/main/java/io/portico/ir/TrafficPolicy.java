package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * What an Envoy Gateway BackendTrafficPolicy sets for the backends of one route rule: how an
 * endpoint is picked, how endpoints are health checked, and how failures are retried and
 * limited. A rule without a policy gets {@link #DEFAULT}.
 *
 * @param policy the BackendTrafficPolicy it came from ("namespace/name"), null for the default
 * @param loadBalancing how an endpoint is picked inside the backend the weights chose
 * @param healthCheck active and passive health checking of the endpoints, with the panic
 *     threshold
 * @param resilience retries, timeouts, circuit breaker and connection pool limits
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrafficPolicy(String policy, LoadBalancing loadBalancing, HealthCheck healthCheck,
    BackendResilience resilience) {

  public static final TrafficPolicy DEFAULT = new TrafficPolicy(null, LoadBalancing.ROUND_ROBIN,
      HealthCheck.NONE, BackendResilience.NONE);

  public TrafficPolicy {
    Objects.requireNonNull(loadBalancing, "loadBalancing");
    Objects.requireNonNull(healthCheck, "healthCheck");
    Objects.requireNonNull(resilience, "resilience");
  }
}
