package io.portico.translate;

import java.util.Objects;

/**
 * Settings of the translator.
 *
 * @param controllerName the GatewayClass {@code spec.controllerName} Portico serves; the default
 *     is Envoy Gateway's, so manifests written for Envoy Gateway apply unchanged
 * @param gatewayAddress the address reported in {@code Gateway.status.addresses} when a Gateway
 *     asks for none (the address the proxy listens on)
 */
public record TranslatorOptions(String controllerName, String gatewayAddress) {

  public static final String DEFAULT_CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller";

  public static final TranslatorOptions DEFAULTS =
      new TranslatorOptions(DEFAULT_CONTROLLER_NAME, "127.0.0.1");

  public TranslatorOptions {
    Objects.requireNonNull(controllerName, "controllerName");
    Objects.requireNonNull(gatewayAddress, "gatewayAddress");
  }
}
