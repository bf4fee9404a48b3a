package io.portico.ir;

import java.util.Objects;

/**
 * A security policy attached to a route rule that Portico cannot enforce yet. Requests the
 * rule matches are answered 500 rather than served without the protection the policy asks for
 * (Envoy Gateway answers 500 for a route whose SecurityPolicy it cannot apply). Set by the
 * translator, so the proxy needs no per-request lookup.
 *
 * @param kind the policy's kind, e.g. {@code SecurityPolicy} (gateway.envoyproxy.io/v1alpha1)
 * @param policy the policy as {@code namespace/name}
 */
public record UnenforcedPolicy(String kind, String policy) {

  public UnenforcedPolicy {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(policy, "policy");
  }
}
