package io.portico.translate;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.FrontendTLSConfig;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.FrontendTLSValidation;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ObjectReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSConfig;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.TLSPortConfig;
import io.portico.ir.ClientValidation;
import io.portico.tls.PemCertificate;

import java.util.ArrayList;
import java.util.List;

/**
 * Resolves a Gateway's client certificate validation ({@code spec.tls.frontend}) for one port:
 * the port's {@code perPort} entry, else the {@code default}. CA certificates come from
 * ConfigMaps (key {@code ca.crt}); another namespace needs a ReferenceGrant.
 */
final class FrontendValidation {

  /**
   * The validation of one port: none, usable, or failed.
   *
   * @param validation what the proxy enforces; null when the port validates nothing or failed
   * @param failureReason the ResolvedRefs reason when no CA certificate could be used, else null
   * @param failureMessage names the reference at fault
   */
  record Result(ClientValidation validation, String failureReason, String failureMessage) {
    static final Result NONE = new Result(null, null, null);

    boolean failed() {
      return failureReason != null;
    }
  }

  static final String REASON_INVALID_CA_REF = "InvalidCACertificateRef";
  static final String REASON_INVALID_CA_KIND = "InvalidCACertificateKind";
  static final String REASON_NO_VALID_CA = "NoValidCACertificate";
  /** Gateway condition type, True while some port lets clients without a valid certificate in. */
  static final String INSECURE_FRONTEND_VALIDATION_MODE = "InsecureFrontendValidationMode";
  static final String REASON_CONFIGURATION_CHANGED = "ConfigurationChanged";
  static final String MODE_INSECURE_FALLBACK = "AllowInsecureFallback";

  private FrontendValidation() {
  }

  /**
   * Returns the fields of {@code gateway} that set client certificate validation to
   * {@code AllowInsecureFallback} (the default, then each perPort entry), empty when none does:
   * the Gateway then reports {@code InsecureFrontendValidationMode=True}.
   */
  static List<String> insecureFallbackFields(Gateway gateway) {
    if (gateway.getSpec().getTls() == null || gateway.getSpec().getTls().getFrontend() == null) {
      return List.of();
    }
    FrontendTLSConfig frontend = gateway.getSpec().getTls().getFrontend();
    List<String> fields = new ArrayList<>();
    if (insecure(frontend.getDefault())) {
      fields.add("spec.tls.frontend.default.validation.mode");
    }
    if (frontend.getPerPort() != null) {
      for (TLSPortConfig perPort : frontend.getPerPort()) {
        if (insecure(perPort.getTls())) {
          fields.add("spec.tls.frontend.perPort[port " + perPort.getPort() + "].validation.mode");
        }
      }
    }
    return fields;
  }

  private static boolean insecure(TLSConfig config) {
    return config != null && config.getValidation() != null
        && MODE_INSECURE_FALLBACK.equals(config.getValidation().getMode());
  }

  static Result forPort(SnapshotIndex index, Gateway gateway, int port) {
    if (gateway.getSpec().getTls() == null || gateway.getSpec().getTls().getFrontend() == null) {
      return Result.NONE;
    }
    FrontendTLSConfig frontend = gateway.getSpec().getTls().getFrontend();
    TLSConfig config = frontend.getDefault();
    String where = "spec.tls.frontend.default";
    if (frontend.getPerPort() != null) {
      for (TLSPortConfig perPort : frontend.getPerPort()) {
        if (perPort.getPort() != null && perPort.getPort() == port) {
          config = perPort.getTls();
          where = "spec.tls.frontend.perPort[port " + port + "]";
        }
      }
    }
    if (config == null || config.getValidation() == null) {
      return Result.NONE;
    }
    return resolve(index, gateway, config.getValidation(), where);
  }

  private static Result resolve(SnapshotIndex index, Gateway gateway,
      FrontendTLSValidation validation, String where) {
    String gatewayNamespace = gateway.getMetadata().getNamespace();
    List<ObjectReference> refs = validation.getCaCertificateRefs() == null
        ? List.of() : validation.getCaCertificateRefs();
    List<String> sources = new ArrayList<>();
    StringBuilder pem = new StringBuilder();
    String reason = null;
    String message = null;
    for (int i = 0; i < refs.size(); i++) {
      ObjectReference ref = refs.get(i);
      String namespace = ref.getNamespace() == null || ref.getNamespace().isEmpty()
          ? gatewayNamespace : ref.getNamespace();
      String name = where + ".validation.caCertificateRefs[" + i + "] " + ref.getKind() + " "
          + namespace + "/" + ref.getName();
      String group = ref.getGroup() == null ? "" : ref.getGroup();
      String failure = null;
      String failureReason = null;
      if (!group.isEmpty() || !"ConfigMap".equals(ref.getKind())) {
        failureReason = REASON_INVALID_CA_KIND;
        failure = name + ": only core ConfigMaps are supported";
      } else if (!ReferenceGrants.permits(index, ReferenceGrants.GATEWAY_GROUP, "Gateway",
          gatewayNamespace, "", "ConfigMap", namespace, ref.getName())) {
        failureReason = "RefNotPermitted";
        failure = name + " is in another namespace and no ReferenceGrant in " + namespace
            + " allows Gateways from " + gatewayNamespace + " to refer to it";
      } else {
        ConfigMap configMap = index.configMap(namespace, ref.getName());
        String ca = configMap == null || configMap.getData() == null
            ? null : configMap.getData().get("ca.crt");
        if (ca == null) {
          failureReason = REASON_INVALID_CA_REF;
          failure = name + (configMap == null ? " not found" : " has no key ca.crt");
        } else {
          try {
            PemCertificate.certificates(ca);
            sources.add(namespace + "/" + ref.getName());
            pem.append(ca).append('\n');
          } catch (IllegalArgumentException e) {
            failureReason = REASON_INVALID_CA_REF;
            failure = name + ": ca.crt " + e.getMessage().replace("tls.crt ", "");
          }
        }
      }
      if (failure != null && reason == null) {
        reason = failureReason;
        message = failure;
      }
    }
    if (sources.isEmpty()) {
      return new Result(null, reason == null ? REASON_INVALID_CA_REF : reason,
          message == null ? where + ".validation has no caCertificateRefs" : message);
    }
    boolean fallback = MODE_INSECURE_FALLBACK.equals(validation.getMode());
    return new Result(new ClientValidation(sources, pem.toString(), fallback), null, null);
  }
}
