package io.portico.translate;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ListenerTLSConfig;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.SecretObjectReference;
import io.portico.ir.TlsCertificate;
import io.portico.status.Conditions;
import io.portico.tls.PemCertificate;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Resolves the certificateRefs of an HTTPS listener (or a TLS listener in Terminate mode) to a {@link TlsCertificate}: a
 * {@code kubernetes.io/tls} Secret, in another namespace only with a ReferenceGrant, whose PEM
 * parses. A listener whose certificate cannot be used is not served, and its ResolvedRefs
 * condition names the Secret and the problem.
 */
final class CertificateRefs {

  private CertificateRefs() {
  }

  /** Sets {@code listener.tls}, or marks its certificate invalid with the reason. */
  static void resolve(SnapshotIndex index, ListenerState listener) {
    ListenerTLSConfig tls = listener.spec.getTls();
    // A ListenerSet's listener refers from the ListenerSet: a ReferenceGrant to its parent
    // Gateway does not cover it, nor the reverse (GEP-1713, ReferenceGrant semantics).
    String gatewayNamespace = listener.ownerNamespace();
    if (tls == null || tls.getCertificateRefs() == null || tls.getCertificateRefs().isEmpty()) {
      listener.invalidCertificate(Conditions.REASON_INVALID_CERTIFICATE_REF,
          listener.describe() + ": " + ("HTTPS".equals(listener.spec.getProtocol())
              ? "an HTTPS listener" : "a TLS listener in Terminate mode")
              + " needs tls.certificateRefs");
      return;
    }
    if (tls.getMode() != null && !tls.getMode().equals("Terminate")) {
      listener.reject(Conditions.REASON_UNSUPPORTED_VALUE, listener.describe() + ": tls.mode "
          + tls.getMode() + " is not supported on an HTTPS listener (use Terminate, or a TLS listener)");
      return;
    }
    SecretObjectReference ref = tls.getCertificateRefs().get(0);
    String group = ref.getGroup() == null ? "" : ref.getGroup();
    String kind = ref.getKind() == null ? "Secret" : ref.getKind();
    String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
        ? gatewayNamespace : ref.getNamespace();
    String where = listener.describe() + ": certificateRefs[0] " + kind + " " + namespace + "/"
        + ref.getName();
    if (!group.isEmpty() || !kind.equals("Secret")) {
      listener.invalidCertificate(Conditions.REASON_INVALID_CERTIFICATE_REF,
          where + ": only core Secrets are supported");
      return;
    }
    if (!ReferenceGrants.permits(index, ReferenceGrants.GATEWAY_GROUP, listener.ownerKind(),
        gatewayNamespace, "", "Secret", namespace, ref.getName())) {
      listener.invalidCertificate(Conditions.REASON_REF_NOT_PERMITTED, where
          + " is in another namespace and no ReferenceGrant in " + namespace
          + " allows " + listener.ownerKind() + "s from " + gatewayNamespace + " to refer to it");
      return;
    }
    Secret secret = index.secret(namespace, ref.getName());
    if (secret == null) {
      listener.invalidCertificate(Conditions.REASON_INVALID_CERTIFICATE_REF, where + " not found");
      return;
    }
    String certificate = value(secret, "tls.crt");
    String key = value(secret, "tls.key");
    try {
      PemCertificate.parse(certificate, key);
    } catch (IllegalArgumentException e) {
      listener.invalidCertificate(Conditions.REASON_INVALID_CERTIFICATE_REF,
          where + ": " + e.getMessage());
      return;
    }
    listener.tls = new TlsCertificate(namespace + "/" + ref.getName(), certificate, key);
  }

  /** Reads a Secret value from {@code data} (base64) or {@code stringData} (plain). */
  static String value(Secret secret, String key) {
    Map<String, String> data = secret.getData();
    if (data != null && data.get(key) != null) {
      try {
        return new String(Base64.getMimeDecoder().decode(data.get(key)), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return "";
      }
    }
    Map<String, String> stringData = secret.getStringData();
    return stringData == null ? null : stringData.get(key);
  }

}
