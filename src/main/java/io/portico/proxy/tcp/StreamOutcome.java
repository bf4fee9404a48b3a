package io.portico.proxy.tcp;

/**
 * What the stream proxy did with one accepted connection (for UDP: with the first datagram of a
 * new client session), as counted in {@code portico_stream_connections_total{protocol,
 * outcome}}.
 */
enum StreamOutcome {
  /** Relayed to a backend endpoint. */
  PROXIED("proxied"),
  /**
   * Its SNI name picked an HTTPS listener sharing the port with TLS listeners: handed to the
   * HTTP proxy ({@link HttpsHandoff}).
   */
  HANDED_OFF("https"),
  /** The first bytes on a TLS port were not a TLS ClientHello: closed. */
  NOT_TLS("not_tls"),
  /** The ClientHello was malformed, larger than the limit, or did not arrive in time: closed. */
  BAD_CLIENT_HELLO("bad_client_hello"),
  /** No listener or route takes the connection (SNI name unknown): closed. */
  NO_ROUTE("no_route"),
  /** The chosen backendRef is invalid, or the rule has no backend with weight: closed. */
  INVALID_BACKEND("invalid_backend"),
  /** The chosen backend has no ready endpoint: closed. */
  NO_ENDPOINTS("no_endpoints"),
  /** The rule's {@code circuitBreaker.maxConnections} are open: closed. */
  OVERFLOW("overflow"),
  /** A SecurityPolicy Portico cannot enforce targets the route: closed. */
  SECURITY_POLICY_NOT_ENFORCED("security_policy_not_enforced"),
  /** No endpoint accepted the connection: closed. */
  CONNECT_FAILED("connect_failed"),
  /** UDP: the port's session table is full; the datagram of a new client is dropped. */
  SESSION_LIMIT("session_limit");

  private final String label;

  StreamOutcome(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }
}
