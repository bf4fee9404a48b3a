package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.Filters;
import io.portico.ir.Mirror;
import io.portico.ir.Route;
import io.portico.proxy.lb.LoadBalancerState;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sends copies of a request to the backends of its RequestMirror filters (rule, then picked
 * backendRef) and ignores their answers: a mirror never delays or fails the real request.
 *
 * <p>Only requests without a body are mirrored: copying a streamed body would mean buffering
 * it or holding the real upload to the mirror's pace.
 *
 * <p>A mirror's endpoint is chosen among the same health-filtered candidates as a real request
 * to that backend ({@link HealthRegistry#candidates}: healthy endpoints, or all of them in
 * panic), by the backend port's shared round robin.
 */
final class RequestMirrors {

  private final HttpClient client;
  private final HttpClient h2cClient;
  private final ProxyOptions options;
  private final ProxyMetrics metrics;

  RequestMirrors(HttpClient client, HttpClient h2cClient, ProxyOptions options,
      ProxyMetrics metrics) {
    this.client = client;
    this.h2cClient = h2cClient;
    this.options = options;
    this.metrics = metrics;
  }

  /**
   * Mirrors {@code call}'s request as it is sent upstream (URI, authority, request filters).
   *
   * @param health filters each mirror backend's endpoints as for the real request
   */
  void send(ProxyRequest call, LoadBalancerState loadBalancer, EndpointsIndex endpoints,
      HealthRegistry health) {
    List<Mirror> ruleMirrors = call.ruleFilters().mirrors();
    List<Mirror> backendMirrors = call.backendFilters().mirrors();
    if (ruleMirrors == null && backendMirrors == null || call.hasBody()) {
      return;
    }
    HttpServerRequest request = call.request();
    if (ruleMirrors != null) {
      ruleMirrors.forEach(m -> mirror(request, m, call.upstreamUri(), call.authority(),
          call.upstreamAuthority(), call.route(), call.backendFilters(), loadBalancer,
          endpoints, health));
    }
    if (backendMirrors != null) {
      backendMirrors.forEach(m -> mirror(request, m, call.upstreamUri(), call.authority(),
          call.upstreamAuthority(), call.route(), call.backendFilters(), loadBalancer,
          endpoints, health));
    }
  }

  /**
   * @param authority the client's authority, for X-Forwarded-Host (as on the main request)
   * @param upstreamAuthority the authority sent upstream (rewritten, if a filter says so)
   */
  private void mirror(HttpServerRequest request, Mirror mirror, String uri, HostAndPort authority,
      HostAndPort upstreamAuthority, Route route, Filters backendFilters, LoadBalancerState loadBalancer,
      EndpointsIndex endpoints, HealthRegistry health) {
    // A mirror to a backend with a BackendTLSPolicy is not sent (yet): never in cleartext.
    if (mirror.key() == null || endpoints.tls(mirror.key()) != null
        || mirror.percent() < 100 && ThreadLocalRandom.current().nextDouble(100) >= mirror.percent()) {
      return;
    }
    // The same candidates (and round robin) as a real request to that backend port.
    List<Endpoint> candidates = health.candidates(mirror.key(), endpoints.get(mirror.key()));
    Endpoint endpoint = loadBalancer.endpoints(mirror.key(), candidates).next();
    if (endpoint == null) {
      return;
    }
    RequestOptions requestOptions = new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()))
        .setMethod(request.method())
        .setURI(uri)
        .setConnectTimeout(options.connectTimeoutMillis())
        .setIdleTimeout(options.upstreamIdleTimeoutMillis());
    HttpClient chosen = endpoints.h2c(mirror.key()) ? h2cClient : client;
    chosen.request(requestOptions).onSuccess(copy -> {
      HopByHopHeaders.copy(request.headers(), copy.headers(), "host");
      RequestFilters.modifyRequestHeaders(copy.headers(), route.filters(), backendFilters);
      copy.authority(upstreamAuthority);
      UpstreamHeaders.addForwarded(request, copy.headers(), authority);
      copy.send().onSuccess(response -> {
        response.exceptionHandler(e -> { }); // A mirror's failure is nobody's business.
        response.end();
      }).onComplete(ar -> metrics.mirrored());
    });
  }
}
