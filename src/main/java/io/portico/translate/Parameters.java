package io.portico.translate;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.Gateway;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.GatewayClass;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.LocalParametersReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParametersReference;

/**
 * Checks the implementation-specific parameters a GatewayClass ({@code spec.parametersRef}) or a
 * Gateway ({@code spec.infrastructure.parametersRef}) names. Portico reads no parameters
 * resource of any kind (it is one process; its settings are command-line options), so every
 * parametersRef is one "to an unsupported resource or kind": the Gateway API asks for
 * {@code Accepted=False} with reason {@code InvalidParameters}, rather than serving the object
 * without the settings its owner asked for.
 */
final class Parameters {

  static final String REASON_INVALID_PARAMETERS = "InvalidParameters";

  private Parameters() {
  }

  /** Returns why the GatewayClass's parametersRef cannot be used, or null when it has none. */
  static String invalid(GatewayClass gatewayClass) {
    ParametersReference ref = gatewayClass.getSpec() == null
        ? null : gatewayClass.getSpec().getParametersRef();
    if (ref == null) {
      return null;
    }
    return "spec.parametersRef " + describe(ref.getGroup(), ref.getKind(),
        ref.getNamespace() == null ? ref.getName() : ref.getNamespace() + "/" + ref.getName())
        + " is not supported: Portico reads no GatewayClass parameters (remove"
        + " spec.parametersRef; settings are command-line options)";
  }

  /** Returns why the Gateway's infrastructure parametersRef cannot be used, or null. */
  static String invalid(Gateway gateway) {
    LocalParametersReference ref = gateway.getSpec() == null
        || gateway.getSpec().getInfrastructure() == null
        ? null : gateway.getSpec().getInfrastructure().getParametersRef();
    if (ref == null) {
      return null;
    }
    return "spec.infrastructure.parametersRef " + describe(ref.getGroup(), ref.getKind(),
        gateway.getMetadata().getNamespace() + "/" + ref.getName())
        + " is not supported: Portico reads no Gateway parameters (remove"
        + " spec.infrastructure.parametersRef)";
  }

  private static String describe(String group, String kind, String name) {
    return (group == null || group.isEmpty() ? "" : group + "/") + kind + " " + name;
  }
}
