package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.ir.Endpoint;
import io.portico.ir.EndpointsIndex;
import io.portico.ir.Filters;
import io.portico.ir.Mirror;
import io.portico.ir.Route;
import io.portico.proxy.lb.LoadBalancerState;
import io.portico.proxy.upstream.RelayBuffers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Sends copies of a request to the backends of its RequestMirror filters (rule, then picked
 * backendRef) and ignores their answers: a mirror never delays or fails the real request.
 *
 * <p>A request without a body is mirrored at once. One with a body (any gRPC call) is mirrored
 * once the client has sent all of it, from the copy kept as it streams to the real backend
 * ({@link ReplayBody}, at most 64 KiB; a larger body is not mirrored): the real upload never
 * waits for a mirror, and no mirror gets half a body.
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
   * Mirrors {@code call}'s request as it is sent upstream (URI, authority, request filters): at
   * once when it has no body, else with its body once the client has sent all of it, from the
   * copy {@code body} keeps (none when the body is larger than a copy holds).
   *
   * @param health filters each mirror backend's endpoints as for the real request
   * @param body the copy of the request's body, or null when it has none
   */
  void send(ProxyRequest call, LoadBalancerState loadBalancer, EndpointsIndex endpoints,
      HealthRegistry health, ReplayBody body) {
    if (call.ruleFilters().mirrors() == null && call.backendFilters().mirrors() == null) {
      return;
    }
    if (!call.hasBody()) {
      sendAll(call, loadBalancer, endpoints, health, null);
    } else if (body != null) {
      body.whenComplete(complete -> sendAll(call, loadBalancer, endpoints, health, complete));
    }
  }

  private void sendAll(ProxyRequest call, LoadBalancerState loadBalancer,
      EndpointsIndex endpoints, HealthRegistry health, Buffer body) {
    HttpServerRequest request = call.request();
    for (List<Mirror> mirrors : Arrays.asList(call.ruleFilters().mirrors(),
        call.backendFilters().mirrors())) {
      if (mirrors != null) {
        mirrors.forEach(m -> mirror(request, m, call.upstreamUri(), call.authority(),
            call.upstreamAuthority(), call.route(), call.backendFilters(), loadBalancer,
            endpoints, health, body));
      }
    }
  }

  /**
   * @param authority the client's authority, for X-Forwarded-Host (as on the main request)
   * @param upstreamAuthority the authority sent upstream (rewritten, if a filter says so)
   * @param body the request's whole body, or null when it has none
   */
  private void mirror(HttpServerRequest request, Mirror mirror, String uri, HostAndPort authority,
      HostAndPort upstreamAuthority, Route route, Filters backendFilters, LoadBalancerState loadBalancer,
      EndpointsIndex endpoints, HealthRegistry health, Buffer body) {
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
    HttpClient chosen = mirror.http2() || endpoints.h2c(mirror.key()) ? h2cClient : client;
    chosen.request(requestOptions).onSuccess(copy -> {
      HopByHopHeaders.copy(request.headers(), copy.headers(), "host");
      RequestFilters.modifyRequestHeaders(copy.headers(), route.filters(), backendFilters);
      copy.authority(upstreamAuthority);
      UpstreamHeaders.addForwarded(request, copy.headers(), authority);
      (body == null ? copy.send() : copy.send(body.copy()))
          .onSuccess(RequestMirrors::discard) // A mirror's answer is nobody's business.
          .onComplete(ar -> metrics.mirrored());
    });
  }

  /** Reads a mirror's answer to its end, giving its body chunks back ({@link RelayBuffers}). */
  private static void discard(HttpClientResponse answer) {
    answer.exceptionHandler(e -> { });
    answer.handler(RelayBuffers::release);
  }
}
