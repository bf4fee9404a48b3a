package io.portico.ir;

import java.util.List;
import java.util.Objects;

/**
 * One TLSRoute, TCPRoute or UDPRoute as attached to one {@link StreamListener}: where the
 * connections it wins go.
 *
 * @param name deterministic name, e.g. {@code tlsroute/default/db/rule/0}
 * @param source the route and rule it came from
 * @param hostnames the SNI name patterns it serves on the listener: the intersection of the
 *     TLSRoute's {@code spec.hostnames} with the listener's {@code hostname} (exact names,
 *     {@code *.} wildcards, or {@code *} for any name); {@code ["*"]} for TCP and UDP routes,
 *     which have no hostnames
 * @param backends the rule's weighted backendRefs; an unavailable backend (invalid reference)
 *     closes the connections that pick it
 */
public record StreamRoute(String name, SourceRef source, List<String> hostnames,
    BackendGroup backends) {

  public StreamRoute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    hostnames = List.copyOf(hostnames);
    Objects.requireNonNull(backends, "backends");
  }
}
