package io.portico.proxy.upstream;

import io.portico.ir.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.TimeUnit;

/**
 * An {@link UpstreamClient} over one of Vert.x's HTTP clients: for h2c and HTTPS endpoints,
 * the pools a BackendTrafficPolicy sets, and endpoints named by host name.
 */
public final class VertxUpstreamClient implements UpstreamClient {

  private final HttpClient client;
  /** The name a TLS client sends as SNI (and checks), or null for cleartext. */
  private final String serverName;
  private final int maxRequestsPerConnection;
  private final EndpointAddresses addresses = new EndpointAddresses();
  /** Requests sent so far per connection, when they are limited. */
  private final Map<HttpConnection, Integer> requestsPerConnection = new WeakHashMap<>();

  /**
   * @param serverName the peer's TLS name, or null for a cleartext client
   * @param maxRequestsPerConnection requests one connection carries (0: no limit)
   */
  public VertxUpstreamClient(HttpClient client, String serverName,
      int maxRequestsPerConnection) {
    this.client = client;
    this.serverName = serverName;
    this.maxRequestsPerConnection = maxRequestsPerConnection;
  }

  @Override
  public Future<UpstreamCall> request(Endpoint endpoint, HttpMethod method, String uri,
      long connectTimeoutMillis) {
    RequestOptions options = new RequestOptions()
        .setServer(addresses.of(endpoint))
        .setMethod(method)
        .setURI(uri)
        .setConnectTimeout(connectTimeoutMillis);
    if (serverName != null) {
      // The peer's name: Vert.x sends it as SNI (the socket still goes to the endpoint).
      options.setHost(serverName).setPort(endpoint.port());
    }
    return client.request(options).map(request -> {
      if (maxRequestsPerConnection > 0) {
        countRequest(request.connection());
      }
      return new VertxUpstreamCall(request);
    });
  }

  /**
   * Counts a request sent on {@code connection}; the one that reaches maxRequestsPerConnection
   * shuts the connection down gracefully (it finishes its requests, the pool then opens a new
   * one).
   */
  private void countRequest(HttpConnection connection) {
    if (connection == null) {
      return;
    }
    int sent = requestsPerConnection.merge(connection, 1, Integer::sum);
    if (sent >= maxRequestsPerConnection) {
      requestsPerConnection.remove(connection);
      connection.shutdown(30, TimeUnit.SECONDS);
    }
  }

  /** Shuts the client down gracefully: its requests in flight get {@code seconds} to finish. */
  public void shutdown(long seconds) {
    client.shutdown(seconds, TimeUnit.SECONDS);
  }
}
