package io.portico.translate;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SecretObjectReference;
import io.portico.ir.TlsCertificate;
import io.portico.status.Conditions;
import io.portico.tls.PemCertificate;

/**
 * Resolves a Gateway's {@code spec.tls.backend.clientCertificateRef}: the certificate Portico
 * presents when it connects with TLS (BackendTLSPolicy) to the backends of routes attached to
 * the Gateway. Like a listener certificate it must be a {@code kubernetes.io/tls} Secret, in
 * another namespace only with a ReferenceGrant, whose PEM parses.
 */
final class BackendClientCertificate {

  /** Gateway ResolvedRefs reason for a clientCertificateRef that cannot be used. */
  static final String REASON_INVALID_CLIENT_CERTIFICATE_REF = "InvalidClientCertificateRef";

  /**
   * @param certificate the certificate to present, or null
   * @param reason the Gateway ResolvedRefs reason when the reference cannot be used, else null
   * @param message what is wrong with the reference
   */
  record Result(TlsCertificate certificate, String reason, String message) {
    static final Result NONE = new Result(null, null, null);

    boolean invalid() {
      return reason != null;
    }
  }

  private BackendClientCertificate() {
  }

  static Result resolve(SnapshotIndex index, Gateway gateway) {
    if (gateway.getSpec() == null || gateway.getSpec().getTls() == null
        || gateway.getSpec().getTls().getBackend() == null
        || gateway.getSpec().getTls().getBackend().getClientCertificateRef() == null) {
      return Result.NONE;
    }
    SecretObjectReference ref = gateway.getSpec().getTls().getBackend().getClientCertificateRef();
    String gatewayNamespace = gateway.getMetadata().getNamespace();
    String group = ref.getGroup() == null ? "" : ref.getGroup();
    String kind = ref.getKind() == null ? "Secret" : ref.getKind();
    String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? gatewayNamespace : ref.getNamespace();
    String where = "spec.tls.backend.clientCertificateRef " + kind + " " + namespace + "/"
        + ref.getName();
    if (!group.isEmpty() || !kind.equals("Secret")) {
      return invalid(where + ": only core Secrets are supported");
    }
    if (!ReferenceGrants.permits(index, ReferenceGrants.GATEWAY_GROUP, "Gateway", gatewayNamespace,
        "", "Secret", namespace, ref.getName())) {
      return new Result(null, Conditions.REASON_REF_NOT_PERMITTED, where
          + " is in another namespace and no ReferenceGrant in " + namespace
          + " allows Gateways from " + gatewayNamespace + " to refer to it");
    }
    Secret secret = index.secret(namespace, ref.getName());
    if (secret == null) {
      return invalid(where + " not found");
    }
    if (secret.getType() != null && !secret.getType().equals("kubernetes.io/tls")) {
      return invalid(where + " is of type " + secret.getType() + ", not kubernetes.io/tls");
    }
    String certificate = CertificateRefs.value(secret, "tls.crt");
    String key = CertificateRefs.value(secret, "tls.key");
    try {
      PemCertificate.parse(certificate, key);
    } catch (IllegalArgumentException e) {
      return invalid(where + ": " + e.getMessage());
    }
    return new Result(new TlsCertificate(namespace + "/" + ref.getName(), certificate, key),
        null, null);
  }

  private static Result invalid(String message) {
    return new Result(null, REASON_INVALID_CLIENT_CERTIFICATE_REF, message);
  }
}
