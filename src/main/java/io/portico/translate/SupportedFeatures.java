package io.portico.translate;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Gateway API features Portico implements, by their upstream names (conformance
 * {@code features.SupportedFeature}): the one list that GatewayClass
 * {@code status.supportedFeatures} reports and that the conformance runner claims, so that no
 * feature is claimed without being reported, nor reported without its cases passing.
 */
public final class SupportedFeatures {

  /** Every feature Portico implements. */
  public static final Set<String> ALL = Set.of("Gateway", "HTTPRoute", "ReferenceGrant",
      "HTTPRouteQueryParamMatching", "HTTPRouteMethodMatching", "HTTPRouteRequestTimeout",
      "GatewayPort8080", "GatewayHTTPListenerIsolation",
      "HTTPRouteNamedRouteRule", "HTTPRouteParentRefPort",
      "GatewayAddressEmpty", "GatewayStaticAddresses",
      "HTTPRouteResponseHeaderModification", "HTTPRouteBackendRequestHeaderModification",
      "HTTPRoutePathRedirect", "HTTPRoutePortRedirect", "HTTPRouteSchemeRedirect",
      "HTTPRoute308RedirectStatusCode", "HTTPRouteHostRewrite", "HTTPRoutePathRewrite",
      "HTTPRouteBackendURLRewrite",
      "GatewayFrontendClientCertificateValidation",
      "GatewayFrontendClientCertificateValidationInsecureFallback", "HTTPRouteBackendProtocolH2C",
      "BackendTLSPolicy", "BackendTLSPolicySANValidation", "GatewayBackendClientCertificate",
      "HTTPRouteRetry", "HTTPRouteRetryBackendTimeout", "HTTPRouteBackendTimeout",
      "HTTPRouteRequestMirror", "HTTPRouteRequestMultipleMirrors",
      "HTTPRouteRequestPercentageMirror",
      "HTTPRouteBackendProtocolWebSocket", "HTTPRouteCORS",
      "GatewayHTTPSListenerDetectMisdirectedRequests",
      "TLSRoute", "TCPRoute", "TLSRouteModeTerminate", "TLSRouteModeMixed", "UDPRoute",
      "ListenerSet",
      "GRPCRoute", "GRPCRouteNamedRouteRule", "GRPCRouteRequestHeaderModifier");

  /** {@link #ALL} in ascending order, as GatewayClass status must list them. */
  public static final List<String> SORTED = List.copyOf(new TreeSet<>(ALL));

  private SupportedFeatures() {
  }
}
