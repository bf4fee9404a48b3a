package io.portico.proxy;

import io.portico.ir.UnenforcedPolicy;
import io.vertx.core.http.HttpServerRequest;

/**
 * Answers the requests of routes a security policy Portico cannot enforce targets: 500 with
 * {@code x-portico-failure: security_policy_not_enforced} and a body naming the policy, never
 * the backend (nothing fails open). The translator decided which routes; nothing is looked up
 * per request.
 */
final class UnenforcedPolicies {

  private UnenforcedPolicies() {
  }

  static void refuse(HttpServerRequest request, UnenforcedPolicy policy, ProxyMetrics metrics) {
    ProxyHandler.respondFailure(metrics, request, UpstreamFailure.SECURITY_POLICY_NOT_ENFORCED,
        policy.kind() + " " + policy.policy() + " targets this route and Portico cannot "
            + "enforce it yet");
  }
}
