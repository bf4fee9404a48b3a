package io.portico.ir;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.Objects;

/**
 * One backendRef of a route rule with its share of the rule's traffic.
 *
 * <p>An invalid reference stays in the table as an <em>unavailable</em> entry: requests that
 * pick it are answered with {@link #failureStatus()} (500 for an invalid reference, as the
 * Gateway API requires), so exactly its share of traffic fails and the rest keeps flowing.
 *
 * @param name deterministic name, e.g. {@code httproute/default/web/rule/0/backend/1}
 * @param weight relative weight (>= 0; 0 means no traffic), Gateway API {@code backendRefs[].weight}
 * @param key the backend port to send to; null when the reference is invalid
 * @param failureStatus HTTP status answered when {@code key} is null, otherwise 0
 * @param failureReason why the reference is unavailable, for logs and the admin API; empty when valid
 * @param filters the backendRef's own filters, applied only to requests sent to this backend
 *     (after the rule's); {@link Filters#NONE} when it has none
 * @param http2 whether the route requires HTTP/2 to this backend whatever its Service port's
 *     {@code appProtocol} says: a GRPCRoute's backends speak gRPC, which is HTTP/2 only (h2c,
 *     or h2 by ALPN under a BackendTLSPolicy)
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record WeightedBackend(String name, int weight, BackendKey key,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) int failureStatus, String failureReason,
    @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = Filters.OmitWhenEmpty.class)
    Filters filters,
    @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean http2) {

  public WeightedBackend {
    Objects.requireNonNull(name, "name");
    if (weight < 0) {
      throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0)");
    }
    if (key == null && failureStatus < 400) {
      throw new IllegalArgumentException(
          "failureStatus: " + failureStatus + " (expected: an HTTP error status for an unavailable backend)");
    }
    failureReason = failureReason == null ? "" : failureReason;
    filters = filters == null ? Filters.NONE : filters;
  }

  /** Returns a backend that forwards to {@code key}. */
  public static WeightedBackend of(String name, int weight, BackendKey key) {
    return new WeightedBackend(name, weight, Objects.requireNonNull(key, "key"), 0, "",
        Filters.NONE, false);
  }

  /** Returns a backend that answers {@code status} for its share of traffic. */
  public static WeightedBackend unavailable(String name, int weight, int status, String reason) {
    return new WeightedBackend(name, weight, null, status, reason, Filters.NONE, false);
  }

  /** Returns this backend with its backendRef's filters. */
  public WeightedBackend withFilters(Filters filters) {
    return new WeightedBackend(name, weight, key, failureStatus, failureReason, filters, http2);
  }

  /** Returns this backend spoken to over HTTP/2 whatever its port's appProtocol (GRPCRoute). */
  public WeightedBackend withHttp2() {
    return new WeightedBackend(name, weight, key, failureStatus, failureReason, filters, true);
  }

  public boolean available() {
    return key != null;
  }
}
