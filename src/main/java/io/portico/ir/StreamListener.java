package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One Gateway listener of protocol TLS, TCP or UDP, with the routes attached to it.
 *
 * @param name deterministic name, e.g. {@code gateway/default/edge/listener/tls}
 * @param source the Gateway and listener section it came from
 * @param hostname the listener's hostname (exact or {@code *.} wildcard), or null for any name;
 *     only TLS listeners use it (Gateway API: ignored for TCP and UDP)
 * @param terminate the certificate of a TLS listener with {@code tls.mode: Terminate}: TLS is
 *     ended here and the plain stream goes to the backend. Null for {@code Passthrough} (and for
 *     TCP and UDP): the bytes go to the backend as they came
 * @param routes the attached routes, oldest first (Gateway API: when several TCPRoutes or
 *     UDPRoutes attach to one listener, the oldest gets the traffic)
 * @param https true for an HTTPS listener that shares its port with TLS listeners (Gateway API:
 *     HTTPS and TLS listeners with distinct hostnames are compatible on one port): a connection
 *     whose SNI name picks it is handed, ClientHello and all, to the HTTP proxy's internal server
 *     for the port ({@link HttpPort}), which terminates TLS and serves its HTTPRoutes. It has no
 *     routes and no certificate here
 * @param sniIndex the routes by SNI name pattern, most specific first (derived from
 *     {@code routes}; for a name two routes share, the oldest route wins)
 */
public record StreamListener(String name, SourceRef source,
    @JsonInclude(JsonInclude.Include.NON_NULL) String hostname,
    @JsonInclude(JsonInclude.Include.NON_NULL) TlsCertificate terminate,
    List<StreamRoute> routes, @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean https,
    @JsonIgnore HostIndex<StreamRoute> sniIndex) {

  public StreamListener(String name, SourceRef source, String hostname, TlsCertificate terminate,
      List<StreamRoute> routes) {
    this(name, source, hostname, terminate, List.copyOf(routes), false, sniIndex(routes));
  }

  /** Returns the stand-in for an HTTPS listener sharing a port with TLS listeners. */
  public static StreamListener https(String name, SourceRef source, String hostname) {
    return new StreamListener(name, source, hostname, null, List.of(), true, sniIndex(List.of()));
  }

  public StreamListener {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    routes = List.copyOf(routes);
    Objects.requireNonNull(sniIndex, "sniIndex");
  }

  private static HostIndex<StreamRoute> sniIndex(List<StreamRoute> routes) {
    record Pattern(String hostname, StreamRoute route) {}
    List<Pattern> patterns = new ArrayList<>();
    for (StreamRoute route : routes) {
      for (String hostname : route.hostnames()) {
        patterns.add(new Pattern(hostname, route));
      }
    }
    return HostIndex.build(patterns, Pattern::hostname).map(Pattern::route);
  }

  /**
   * Returns the route for a connection: by SNI name on a TLS listener ({@code ""} when the
   * client sent none), the oldest route on a TCP or UDP listener; null when none takes it.
   */
  public StreamRoute findRoute(String serverName) {
    return sniIndex.find(serverName == null ? "" : serverName);
  }

  // The index is derived from routes: leave it out of equality.
  @Override
  public boolean equals(Object o) {
    return o instanceof StreamListener other && other.name.equals(name)
        && other.source.equals(source) && Objects.equals(other.hostname, hostname)
        && Objects.equals(other.terminate, terminate) && other.routes.equals(routes)
        && other.https == https;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, source, hostname, terminate, routes, https);
  }
}
