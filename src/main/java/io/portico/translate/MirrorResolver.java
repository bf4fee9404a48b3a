package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Fraction;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRefBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRequestMirrorFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
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
  private final HTTPRoute route;
  private final int ruleIndex;
  private final List<BackendRefResolver.Resolution> failures = new ArrayList<>();

  MirrorResolver(SnapshotIndex index, HTTPRoute route, int ruleIndex) {
    this.index = index;
    this.route = route;
    this.ruleIndex = ruleIndex;
  }

  Mirror resolve(String where, int mirrorIndex, HTTPRequestMirrorFilter spec) throws InvalidRule {
    if (spec == null || spec.getBackendRef() == null) {
      throw new InvalidRule(where + ": requestMirror.backendRef is required");
    }
    double percent = percent(where, spec);
    HTTPBackendRef ref = new HTTPBackendRefBuilder()
        .withGroup(spec.getBackendRef().getGroup())
        .withKind(spec.getBackendRef().getKind())
        .withName(spec.getBackendRef().getName())
        .withNamespace(spec.getBackendRef().getNamespace())
        .withPort(spec.getBackendRef().getPort())
        .build();
    BackendRefResolver.Resolution resolution =
        BackendRefResolver.resolve(index, route, ruleIndex, mirrorIndex, ref);
    String name = "httproute/" + route.getMetadata().getNamespace() + "/"
        + route.getMetadata().getName() + "/rule/" + ruleIndex + "/mirror/" + mirrorIndex;
    if (resolution.failureReason() != null) {
      failures.add(new BackendRefResolver.Resolution(resolution.backend(),
          resolution.failureReason(),
          resolution.failureMessage().replace("backendRefs[" + mirrorIndex + "]",
              "requestMirror[" + mirrorIndex + "].backendRef")));
      return new Mirror(name, null, percent);
    }
    return new Mirror(name, resolution.backend().key(), percent);
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
