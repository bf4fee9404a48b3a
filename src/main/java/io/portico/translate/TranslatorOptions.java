package io.portico.translate;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * Settings of the translator.
 *
 * @param controllerName the GatewayClass {@code spec.controllerName} Portico serves; the default
 *     is Envoy Gateway's, so manifests written for Envoy Gateway apply unchanged
 * @param gatewayAddress the address reported in {@code Gateway.status.addresses} for Gateways
 *     served on the proxy's shared bind address
 * @param addressPool an IPv4 CIDR block (e.g. {@code 127.0.10.0/24}) from which every Gateway
 *     without an IPAddress in {@code spec.addresses} gets an address of its own, so that several
 *     Gateways can use the same port; null serves every Gateway on the shared bind address (one
 *     Gateway per port)
 * @param addressUsable whether Portico can serve on an IP address a Gateway asks for in
 *     {@code spec.addresses}; the translator stays pure because the caller decides (by default:
 *     a loopback address, or one of this host's interfaces)
 */
public record TranslatorOptions(String controllerName, String gatewayAddress, String addressPool,
    Predicate<String> addressUsable) {

  public static final String DEFAULT_CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller";

  public static final TranslatorOptions DEFAULTS =
      new TranslatorOptions(DEFAULT_CONTROLLER_NAME, "127.0.0.1", null);

  public TranslatorOptions(String controllerName, String gatewayAddress, String addressPool) {
    this(controllerName, gatewayAddress, addressPool, LocalAddresses::isLocal);
  }

  public TranslatorOptions {
    Objects.requireNonNull(controllerName, "controllerName");
    Objects.requireNonNull(gatewayAddress, "gatewayAddress");
    Objects.requireNonNull(addressUsable, "addressUsable");
    if (addressPool != null) {
      AddressPool.parse(addressPool);
    }
  }

  public TranslatorOptions(String controllerName, String gatewayAddress) {
    this(controllerName, gatewayAddress, null);
  }

  /** Returns these options with every Gateway given its own address from {@code cidr}. */
  public TranslatorOptions withAddressPool(String cidr) {
    return new TranslatorOptions(controllerName, gatewayAddress, cidr, addressUsable);
  }
}
