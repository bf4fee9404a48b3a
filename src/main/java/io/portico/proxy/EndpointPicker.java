package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.ir.BackendGroup;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.TlsCertificate;
import io.portico.ir.UpstreamTls;
import io.portico.ir.WeightedBackend;
import io.portico.proxy.lb.EndpointChooser;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.lb.RoundRobin;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;

/**
 * Picks where one request of a rule goes: the backendRef (a valid session or affinity cookie
 * keeps its endpoint across a weighted split; otherwise the weights), then the endpoint among
 * the backend port's candidates as health checking leaves them, by the rule's load balancing
 * (see {@link EndpointChooser}). Returns a {@link Pick}; writes nothing to the response.
 * Confined to its verticle's event loop.
 */
final class EndpointPicker {

  /**
   * The outcome of a pick: a target, a redirect of the picked backendRef, or a failure.
   *
   * @param backend the picked backendRef, or null when the rule had none to pick
   * @param target where the request goes, or null for a redirect or a failure
   * @param failure why the request cannot go anywhere, or null
   * @param detail the failure's one-line explanation, or null
   */
  record Pick(WeightedBackend backend, UpstreamTarget target, UpstreamFailure failure,
      String detail) {

    static Pick failed(WeightedBackend backend, UpstreamFailure failure, String detail) {
      return new Pick(backend, null, failure, detail);
    }
  }

  private final LoadBalancerState loadBalancer;
  private final EndpointChooser chooser;
  private final HealthRegistry health;
  private EndpointsIndex endpoints = EndpointsIndex.EMPTY;

  EndpointPicker(LoadBalancerState loadBalancer, HealthRegistry health) {
    this.loadBalancer = loadBalancer;
    this.chooser = new EndpointChooser(loadBalancer);
    this.health = health;
  }

  /** Picks from {@code endpoints} from now on. */
  void use(EndpointsIndex endpoints) {
    this.endpoints = endpoints;
  }
  /**
   * Picks the backend and endpoint of {@code request} in {@code group}.
   *
   * @param clientCertificate the certificate the Gateway presents to backends with a
   *     BackendTLSPolicy, or null
   */
  Pick pick(HttpServerRequest request, BackendGroup group, TlsCertificate clientCertificate) {
    EndpointChooser.Pins pins = chooser.pins(request, group);
    WeightedBackend backend = chooser.pinnedBackend(pins, group,
        key -> health.candidates(key, endpoints.get(key)));
    if (backend == null) {
      backend = loadBalancer.group(group).next();
    }
    if (backend == null) {
      // Gateway API: a rule with no (or only weight-0) backendRefs answers 500.
      return Pick.failed(null, UpstreamFailure.INVALID_BACKEND, "no backend for " + group.name());
    }
    if (!backend.available()) {
      return Pick.failed(backend, UpstreamFailure.INVALID_BACKEND,
          "invalid backend " + backend.name());
    }
    if (backend.filters().redirect() != null) {
      return new Pick(backend, null, null, null);
    }
    // Health hook: the choice (and any retry) sees the healthy endpoints, or all in panic.
    List<Endpoint> candidates = health.candidates(backend.key(), endpoints.get(backend.key()));
    RoundRobin roundRobin = loadBalancer.endpoints(backend.key(), candidates);
    Endpoint endpoint = chooser.choose(request, pins, group, backend.key(), candidates);
    if (endpoint == null) {
      return Pick.failed(backend, UpstreamFailure.NO_ENDPOINTS,
          "no ready endpoint for " + backend.key());
    }
    UpstreamTls tls = endpoints.tls(backend.key());
    if (tls != null && !tls.usable()) {
      return Pick.failed(backend, UpstreamFailure.INVALID_BACKEND_TLS,
          "BackendTLSPolicy for " + backend.key() + " cannot be used: " + tls.invalid());
    }
    return new Pick(backend, new UpstreamTarget(endpoint, roundRobin,
        backend.http2() || endpoints.h2c(backend.key()), tls,
        tls == null ? null : clientCertificate), null, null);
  }
}
