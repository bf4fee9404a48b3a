package io.portico.translate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicy;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendTLSPolicyValidation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.LocalObjectReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.LocalPolicyTargetReferenceWithSectionName;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyAncestorStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatus;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.PolicyStatusBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SubjectAltName;
import io.portico.ir.BackendKey;
import io.portico.ir.UpstreamTls;
import io.portico.resource.ObjectKey;
import io.portico.resource.ResourceSnapshot;
import io.portico.status.Conditions;
import io.portico.tls.PemCertificate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Resolves Gateway API BackendTLSPolicies (v1): which Service ports Portico reaches over TLS,
 * with which server name, CA certificates and subject alternative names, and the status of
 * every policy.
 *
 * <p>The resolution needs only Services, ConfigMaps and policies, so it runs both for the
 * endpoints (what the proxies use) and for status (where the Gateways whose routes use a
 * targeted Service are the policy's ancestors). Of policies targeting the same Service and
 * sectionName, the oldest wins (then namespace/name); the others are Conflicted. A policy with a
 * sectionName (a Service port name) wins over one targeting the whole Service for that port.
 */
final class BackendTlsPhase {

  static final String REASON_NO_VALID_CA = "NoValidCACertificate";
  static final String REASON_INVALID_CA_REF = "InvalidCACertificateRef";
  static final String REASON_INVALID_KIND = "InvalidKind";
  static final String REASON_CONFLICTED = "Conflicted";
  static final String REASON_TARGET_NOT_FOUND = "TargetNotFound";
  private static final String GATEWAY_GROUP = "gateway.networking.k8s.io";

  /**
   * What one policy amounts to, before its ancestors are known.
   *
   * @param tls the setting for the ports it wins (possibly unusable)
   * @param acceptedReason null when Accepted=True
   * @param resolvedReason null when ResolvedRefs=True
   */
  record Verdict(UpstreamTls tls, String acceptedReason, String resolvedReason, String message) {
  }

  /**
   * @param upstreamTls the setting of every targeted Service port
   * @param verdicts per policy
   * @param targets per policy, the Services it targets ("namespace/name")
   */
  record Resolution(Map<BackendKey, UpstreamTls> upstreamTls, Map<ObjectKey, Verdict> verdicts,
      Map<ObjectKey, Set<String>> targets) {
  }

  private BackendTlsPhase() {
  }

  static Resolution resolve(ResourceSnapshot snapshot) {
    SnapshotIndex index = new SnapshotIndex(snapshot);
    List<BackendTLSPolicy> policies = new ArrayList<>(snapshot.backendTLSPolicies());
    SnapshotIndex.sortOldestFirst(policies);
    Map<ObjectKey, Verdict> verdicts = new LinkedHashMap<>();
    Map<ObjectKey, Set<String>> targets = new LinkedHashMap<>();
    // "namespace/service#sectionName" (empty sectionName: the whole Service) -> winner's setting
    Map<String, UpstreamTls> claimed = new HashMap<>();
    Map<String, ObjectKey> claimers = new HashMap<>();
    for (BackendTLSPolicy policy : policies) {
      ObjectKey key = ObjectKey.of(policy);
      String namespace = policy.getMetadata().getNamespace();
      Verdict verdict = validate(index, policy);
      Set<String> services = new java.util.TreeSet<>();
      String conflict = null;
      String notFound = null;
      List<LocalPolicyTargetReferenceWithSectionName> refs = policy.getSpec() == null
          || policy.getSpec().getTargetRefs() == null ? List.of() : policy.getSpec().getTargetRefs();
      for (int i = 0; i < refs.size(); i++) {
        LocalPolicyTargetReferenceWithSectionName ref = refs.get(i);
        String group = ref.getGroup() == null ? "" : ref.getGroup();
        if (!group.isEmpty() || !"Service".equals(ref.getKind()) || ref.getName() == null) {
          continue;
        }
        services.add(namespace + "/" + ref.getName());
        String section = ref.getSectionName() == null ? "" : ref.getSectionName();
        // Gateway API PolicyTargetReference: a sectionName the target does not have fails the
        // attachment (reason TargetNotFound), as does a Service that does not exist.
        String missing = missingTarget(index, namespace, ref);
        if (missing != null) {
          notFound = notFound != null ? notFound : "spec.targetRefs[" + i + "]: " + missing;
          continue;
        }
        String target = namespace + "/" + ref.getName() + "#" + section;
        ObjectKey older = claimers.putIfAbsent(target, key);
        if (older != null) {
          conflict = conflict != null ? conflict : "spec.targetRefs[" + i + "] Service "
              + namespace + "/" + ref.getName() + (section.isEmpty() ? "" : " sectionName "
              + section) + " is already targeted by the older BackendTLSPolicy "
              + older.namespace() + "/" + older.name();
        } else {
          claimed.put(target, verdict.tls());
        }
      }
      if (notFound != null && verdict.acceptedReason() == null) {
        verdict = new Verdict(verdict.tls(), REASON_TARGET_NOT_FOUND, verdict.resolvedReason(),
            notFound);
      } else if (conflict != null && verdict.acceptedReason() == null) {
        verdict = new Verdict(verdict.tls(), REASON_CONFLICTED, verdict.resolvedReason(),
            conflict);
      }
      verdicts.put(key, verdict);
      targets.put(key, services);
    }
    Map<BackendKey, UpstreamTls> upstreamTls = new HashMap<>();
    for (Service service : snapshot.services()) {
      if (service.getSpec() == null || service.getSpec().getPorts() == null) {
        continue;
      }
      String prefix = service.getMetadata().getNamespace() + "/" + service.getMetadata().getName()
          + "#";
      for (ServicePort port : service.getSpec().getPorts()) {
        UpstreamTls tls = port.getName() == null || port.getName().isEmpty()
            ? null : claimed.get(prefix + port.getName());
        if (tls == null) {
          tls = claimed.get(prefix);
        }
        if (tls != null && port.getPort() != null) {
          upstreamTls.put(BackendKey.service(service.getMetadata().getNamespace(),
              service.getMetadata().getName(), port.getPort()), tls);
        }
      }
    }
    return new Resolution(upstreamTls, verdicts, targets);
  }

  private static Verdict validate(SnapshotIndex index, BackendTLSPolicy policy) {
    BackendTLSPolicyValidation validation = policy.getSpec() == null
        ? null : policy.getSpec().getValidation();
    String hostname = validation == null ? null : validation.getHostname();
    if (validation == null || hostname == null || hostname.isEmpty()) {
      return invalid(hostname, Conditions.REASON_INVALID, null, "spec.validation.hostname is required");
    }
    List<String> sans = new ArrayList<>();
    if (validation.getSubjectAltNames() != null) {
      for (SubjectAltName san : validation.getSubjectAltNames()) {
        if ("Hostname".equals(san.getType()) && san.getHostname() != null) {
          sans.add("DNS:" + san.getHostname());
        } else if ("URI".equals(san.getType()) && san.getUri() != null) {
          sans.add("URI:" + san.getUri());
        } else {
          return invalid(hostname, Conditions.REASON_INVALID, null,
              "subjectAltNames: type " + san.getType() + " needs its hostname or uri");
        }
      }
    }
    List<LocalObjectReference> refs = validation.getCaCertificateRefs() == null
        ? List.of() : validation.getCaCertificateRefs();
    String wellKnown = validation.getWellKnownCACertificates();
    if (wellKnown != null && !wellKnown.isEmpty()) {
      if (!refs.isEmpty()) {
        return invalid(hostname, Conditions.REASON_INVALID, null,
            "caCertificateRefs and wellKnownCACertificates are mutually exclusive");
      }
      if (!"System".equals(wellKnown)) {
        return invalid(hostname, Conditions.REASON_INVALID, null,
            "wellKnownCACertificates " + wellKnown + " is not supported (supported: System)");
      }
      return new Verdict(new UpstreamTls(hostname, null, sans, null), null, null,
          "uses the system trust store");
    }
    if (refs.isEmpty()) {
      return invalid(hostname, Conditions.REASON_INVALID, null,
          "either caCertificateRefs or wellKnownCACertificates is required");
    }
    String namespace = policy.getMetadata().getNamespace();
    StringBuilder pem = new StringBuilder();
    String reason = null;
    String message = null;
    for (int i = 0; i < refs.size(); i++) {
      LocalObjectReference ref = refs.get(i);
      String group = ref.getGroup() == null ? "" : ref.getGroup();
      String where = "caCertificateRefs[" + i + "] " + ref.getKind() + " " + namespace + "/"
          + ref.getName();
      String failureReason = null;
      String failure = null;
      if (!group.isEmpty() || !"ConfigMap".equals(ref.getKind())) {
        failureReason = REASON_INVALID_KIND;
        failure = where + ": only core ConfigMaps are supported";
      } else {
        ConfigMap configMap = index.configMap(namespace, ref.getName());
        String ca = configMap == null || configMap.getData() == null
            ? null : configMap.getData().get("ca.crt");
        if (ca == null || ca.isBlank()) {
          failureReason = REASON_INVALID_CA_REF;
          failure = where + (configMap == null ? " not found" : " has no ca.crt");
        } else {
          try {
            PemCertificate.certificates(ca);
            pem.append(ca).append('\n');
          } catch (IllegalArgumentException e) {
            failureReason = REASON_INVALID_CA_REF;
            failure = where + ": ca.crt " + e.getMessage().replace("tls.crt ", "");
          }
        }
      }
      if (failure != null && reason == null) {
        reason = failureReason;
        message = failure;
      }
    }
    if (pem.length() == 0) {
      return invalid(hostname, REASON_NO_VALID_CA, reason, message);
    }
    // Some CA certificates are usable: the policy applies with them, ResolvedRefs says which not.
    return new Verdict(new UpstreamTls(hostname, pem.toString(), sans, null), null, reason,
        message == null ? "CA certificates resolved" : message);
  }

  /** Returns why a Service targetRef names nothing, or null when its Service (and port) exist. */
  private static String missingTarget(SnapshotIndex index, String namespace,
      LocalPolicyTargetReferenceWithSectionName ref) {
    Service service = index.service(namespace, ref.getName());
    if (service == null) {
      return "Service " + namespace + "/" + ref.getName() + " not found";
    }
    String section = ref.getSectionName();
    if (section == null || section.isEmpty()) {
      return null;
    }
    List<ServicePort> ports = service.getSpec() == null || service.getSpec().getPorts() == null
        ? List.of() : service.getSpec().getPorts();
    for (ServicePort port : ports) {
      if (section.equals(port.getName())) {
        return null;
      }
    }
    return "sectionName " + section + ": Service " + namespace + "/" + ref.getName()
        + " has no port named " + section;
  }

  private static Verdict invalid(String hostname, String acceptedReason, String resolvedReason,
      String message) {
    return new Verdict(UpstreamTls.invalid(hostname, message), acceptedReason, resolvedReason,
        message);
  }

  /**
   * Returns the status of every policy: one ancestor entry per Gateway (ours) whose routes use
   * a Service the policy targets.
   *
   * @param gatewaysByService "namespace/name" of a Service -> the Gateways whose routes use it
   */
  static Map<ObjectKey, PolicyStatus> status(ResourceSnapshot snapshot, Resolution resolution,
      Map<String, Set<ObjectKey>> gatewaysByService, String controllerName) {
    Map<ObjectKey, PolicyStatus> result = new TreeMap<>();
    for (BackendTLSPolicy policy : snapshot.backendTLSPolicies()) {
      ObjectKey key = ObjectKey.of(policy);
      Verdict verdict = resolution.verdicts().get(key);
      long generation = SnapshotIndex.generation(policy);
      Set<ObjectKey> ancestors = new java.util.TreeSet<>();
      for (String service : resolution.targets().getOrDefault(key, Set.of())) {
        ancestors.addAll(gatewaysByService.getOrDefault(service, Set.of()));
      }
      List<PolicyAncestorStatus> entries = new ArrayList<>();
      for (ObjectKey gateway : ancestors) {
        entries.add(new PolicyAncestorStatusBuilder()
            .withAncestorRef(new ParentReferenceBuilder().withGroup(GATEWAY_GROUP)
                .withKind(gateway.kind()).withNamespace(gateway.namespace()).withName(gateway.name())
                .build())
            .withControllerName(controllerName)
            .withConditions(conditions(verdict, generation))
            .build());
      }
      result.put(key, new PolicyStatusBuilder().withAncestors(entries).build());
    }
    return result;
  }

  private static List<Condition> conditions(Verdict verdict, long generation) {
    boolean accepted = verdict.acceptedReason() == null;
    boolean resolved = verdict.resolvedReason() == null;
    return List.of(
        Conditions.of(Conditions.ACCEPTED, accepted,
            accepted ? Conditions.REASON_ACCEPTED : verdict.acceptedReason(),
            accepted ? "BackendTLSPolicy is accepted" : verdict.message(), generation),
        Conditions.of(Conditions.RESOLVED_REFS, resolved,
            resolved ? Conditions.REASON_RESOLVED_REFS : verdict.resolvedReason(),
            resolved ? "references resolved" : verdict.message(), generation));
  }
}
