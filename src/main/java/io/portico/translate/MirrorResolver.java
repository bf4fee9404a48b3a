package io.portico.translate;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendRefBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Fraction;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRequestMirrorFilter;
import io.portico.ir.Mirror;
import io.portico.translate.RuleCompiler.InvalidRule;

import java.util.ArrayList;
import java.util.List;

/**
 * Resolves the backendRef of a RequestMirror filter like any other backendRef (Service and
 * port, ReferenceGrant). An unusable reference is reported in the route's ResolvedRefs and
 * mirrors nothing; the rule itself keeps serving.
 */
final class MirrorResolver {

  private final SnapshotIndex index;
  private final String kind;
  private final HasMetadata route;
  private final int ruleIndex;
  private final List<BackendRefResolver.Resolution> failures = new ArrayList<>();

  /**
   * @param kind the route's kind (HTTPRoute or GRPCRoute), as ReferenceGrants name it
   */
  MirrorResolver(SnapshotIndex index, String kind, HasMetadata route, int ruleIndex) {
    this.index = index;
    this.kind = kind;
    this.route = route;
    this.ruleIndex = ruleIndex;
  }

  Mirror resolve(String where, int mirrorIndex, HTTPRequestMirrorFilter spec) throws InvalidRule {
    if (spec == null || spec.getBackendRef() == null) {
      throw new InvalidRule(where + ": requestMirror.backendRef is required");
    }
    double percent = percent(where, spec);
    BackendRef ref = new BackendRefBuilder()
        .withGroup(spec.getBackendRef().getGroup())
        .withKind(spec.getBackendRef().getKind())
        .withName(spec.getBackendRef().getName())
        .withNamespace(spec.getBackendRef().getNamespace())
        .withPort(spec.getBackendRef().getPort())
        .build();
    String ruleName = kind.toLowerCase(java.util.Locale.ROOT) + "/"
        + route.getMetadata().getNamespace() + "/" + route.getMetadata().getName() + "/rule/"
        + ruleIndex;
    BackendRefResolver.Resolution resolution =
        BackendRefResolver.resolve(index, kind, route, ruleName, ruleIndex, mirrorIndex, ref);
    String name = ruleName + "/mirror/" + mirrorIndex;
    if (resolution.failureReason() != null) {
      failures.add(new BackendRefResolver.Resolution(resolution.backend(),
          resolution.failureReason(),
          resolution.failureMessage().replace("backendRefs[" + mirrorIndex + "]",
              "requestMirror[" + mirrorIndex + "].backendRef")));
      return new Mirror(name, null, percent);
    }
    return new Mirror(name, resolution.backend().key(), percent, kind.equals("GRPCRoute"));
  }

  /** The mirror references that could not be resolved, for ResolvedRefs. */
  List<BackendRefResolver.Resolution> failures() {
    return failures;
  }

  private static double percent(String where, HTTPRequestMirrorFilter spec) throws InvalidRule {
    if (spec.getPercent() != null) {
      if (spec.getPercent() < 0 || spec.getPercent() > 100) {
        throw new InvalidRule(where + ": percent " + spec.getPercent() + " (expected: 0-100)");
      }
      return spec.getPercent();
    }
    Fraction fraction = spec.getFraction();
    if (fraction != null) {
      int denominator = fraction.getDenominator() == null ? 100 : fraction.getDenominator();
      int numerator = fraction.getNumerator() == null ? 0 : fraction.getNumerator();
      if (denominator <= 0 || numerator < 0 || numerator > denominator) {
        throw new InvalidRule(where + ": fraction " + numerator + "/" + denominator
            + " (expected: 0 <= numerator <= denominator, denominator > 0)");
      }
      return 100.0 * numerator / denominator;
    }
    return 100;
  }
}
