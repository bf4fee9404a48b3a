package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

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
 *     closes the connections that pick it. Its {@link BackendGroup#traffic()} is the
 *     BackendTrafficPolicy as far as it applies to a stream (load balancing, health checks,
 *     {@code circuitBreaker.maxConnections}, connect timeout; see the translator's
 *     StreamPolicyScope)
 * @param unenforced a SecurityPolicy on the route that Portico cannot enforce: every connection
 *     is closed rather than served without it; null when there is none
 */
public record StreamRoute(String name, SourceRef source, List<String> hostnames,
    BackendGroup backends, @JsonInclude(JsonInclude.Include.NON_NULL) UnenforcedPolicy unenforced) {

  public StreamRoute(String name, SourceRef source, List<String> hostnames,
      BackendGroup backends) {
    this(name, source, hostnames, backends, null);
  }

  public StreamRoute {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(source, "source");
    hostnames = List.copyOf(hostnames);
    Objects.requireNonNull(backends, "backends");
  }
}
