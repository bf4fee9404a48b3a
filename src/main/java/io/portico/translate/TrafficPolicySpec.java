package io.portico.translate;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.portico.ir.TrafficPolicy;

import java.util.Map;

/**
 * Reads one BackendTrafficPolicy's settings (not its targets) into a {@link TrafficPolicy};
 * each section has its own reader. A field a reader starts to read must also be listed in
 * {@link UnimplementedFields}, or the policy's status keeps calling it unimplemented.
 */
final class TrafficPolicySpec {

  private TrafficPolicySpec() {
  }

  static TrafficPolicy parse(GenericKubernetesResource policy) throws InvalidPolicy {
    Map<String, Object> spec = PolicyFields.map(policy.getAdditionalProperties().get("spec"));
    String name = policy.getMetadata().getNamespace() + "/" + policy.getMetadata().getName();
    return new TrafficPolicy(name, LoadBalancerSpec.parse(spec), HealthCheckSpec.parse(spec),
        ResilienceSpec.parse(spec));
  }
}
