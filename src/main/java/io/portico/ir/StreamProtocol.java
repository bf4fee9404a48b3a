package io.portico.ir;

/**
 * How a {@link StreamPort} treats the connections (or datagrams) it accepts: the Gateway
 * listener protocols that are served below HTTP.
 */
public enum StreamProtocol {

  /**
   * Gateway listener {@code protocol: TLS}: the route is chosen by the SNI name of the client's
   * TLS ClientHello. With {@code tls.mode: Passthrough} the encrypted stream is relayed to the
   * backend untouched (TLSRoute).
   */
  TLS,

  /** Gateway listener {@code protocol: TCP}: every connection goes to the listener's TCPRoute. */
  TCP,

  /** Gateway listener {@code protocol: UDP}: every datagram goes to the listener's UDPRoute. */
  UDP
}
