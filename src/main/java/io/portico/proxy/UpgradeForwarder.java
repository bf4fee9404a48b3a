package io.portico.proxy;

import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.ir.Route;
import io.portico.proxy.lb.AffinityResponse;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;


import java.util.Map;

/**
 * Forwards an HTTP/1.1 protocol upgrade (WebSocket and the like): the Upgrade handshake goes to
 * the endpoint over a plain TCP connection, and once it answers 101 both connections become a
 * byte tunnel with back-pressure both ways.
 *
 * <p>The handshake is written and its answer parsed here rather than through Vert.x's
 * HttpClient because, in Vert.x 5.0.7, writing to the NetSocket of an upgraded client response
 * fails (Http1xClientConnection.endRequest pops an empty queue).
 */
final class UpgradeForwarder {

  /** Largest response head accepted from an endpoint during the handshake. */
  private static final int MAX_HEAD_BYTES = 16 * 1024;

  private final NetClient client;
  private final ProxyMetrics metrics;

  UpgradeForwarder(NetClient client, ProxyMetrics metrics) {
    this.client = client;
    this.metrics = metrics;
  }

  /** Whether {@code request} asks to switch protocols (HTTP/1.1 Upgrade with Connection: upgrade). */
  static boolean isUpgrade(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_1_1 || !request.headers().contains(HttpHeaders.UPGRADE)) {
      return false;
    }
    for (String connection : request.headers().getAll(HttpHeaders.CONNECTION)) {
      for (String token : connection.split(",")) {
        if (token.trim().equalsIgnoreCase("upgrade")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Forwards the upgrade handshake, with the route's filters applied as for any request: the
   * rewritten URI and Host, the request header modifiers, and the response header modifiers on
   * the endpoint's answer.
   *
   * @param path the normalized request path
   */
  void forward(HttpServerRequest request, String path, HostAndPort authority, Endpoint endpoint,
      Route route, Filters backendFilters) {
    String uri = RequestFilters.upstreamUri(request, path, route, backendFilters);
    HostAndPort upstreamAuthority =
        RequestFilters.upstreamAuthority(authority, route, backendFilters);
    client.connect(endpoint.port(), endpoint.host()).onComplete(ar -> {
      if (ar.failed()) {
        ProxyHandler.respondFailure(metrics, request, UpstreamFailure.of(ar.cause()),
            "upgrade to " + endpoint + " failed");
        return;
      }
      NetSocket upstream = ar.result();
      upstream.pause();
      // The endpoint accepted the connection: the session names it (a failed handshake's 502
      // drops the cookie again, see ProxyHandler.respondFailure).
      AffinityResponse.answered(request, route.backends(), endpoint);
      upstream.write(handshake(request, uri, authority, upstreamAuthority, route.filters(),
          backendFilters));
      awaitHead(request, upstream, Buffer.buffer(), route.filters(), backendFilters);
      upstream.resume();
    });
  }

  private static Buffer handshake(HttpServerRequest request, String uri, HostAndPort authority,
      HostAndPort upstreamAuthority, Filters ruleFilters, Filters backendFilters) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    HopByHopHeaders.copy(request.headers(), headers, "host");
    RequestFilters.modifyRequestHeaders(headers, ruleFilters, backendFilters);
    Forwarder.addForwardedHeaders(request, headers, authority);
    StringBuilder head = new StringBuilder(256)
        .append(request.method().name()).append(' ').append(uri).append(" HTTP/1.1\r\n")
        .append("Host: ").append(upstreamAuthority).append("\r\n")
        .append("Connection: Upgrade\r\n")
        .append("Upgrade: ").append(request.headers().get(HttpHeaders.UPGRADE)).append("\r\n");
    for (Map.Entry<String, String> header : headers) {
      head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    return Buffer.buffer(head.append("\r\n").toString(), "ISO-8859-1");
  }

  /** Reads the endpoint's response head, then switches to the tunnel or relays the refusal. */
  private void awaitHead(HttpServerRequest request, NetSocket upstream, Buffer received,
      Filters ruleFilters, Filters backendFilters) {
    upstream.exceptionHandler(e -> fail(request, upstream, UpstreamFailure.RESET));
    upstream.closeHandler(v -> fail(request, upstream, UpstreamFailure.RESET));
    upstream.handler(chunk -> {
      received.appendBuffer(chunk);
      int end = indexOfHeadEnd(received);
      if (end < 0) {
        if (received.length() > MAX_HEAD_BYTES) {
          fail(request, upstream, UpstreamFailure.RESET);
        }
        return;
      }
      upstream.handler(null);
      upstream.closeHandler(null);
      String[] lines = received.getString(0, end, "ISO-8859-1").split("\r\n");
      int status = statusCode(lines[0]);
      HttpServerResponse response = request.response();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          String name = lines[i].substring(0, colon).trim();
          if (!HopByHopHeaders.isHopByHop(name)) {
            response.headers().add(name, lines[i].substring(colon + 1).trim());
          }
        }
      }
      RequestFilters.modifyResponseHeaders(response.headers(), ruleFilters, backendFilters);
      Buffer rest = received.getBuffer(end + 4, received.length());
      if (status == 101) {
        tunnel(request, upstream, lines, rest);
      } else {
        // The endpoint refused to switch: its status reaches the client, the connection ends.
        metrics.forwarded(status < 100 ? 502 : status);
        upstream.close();
        response.headers().remove(HttpHeaders.CONTENT_LENGTH).remove(HttpHeaders.TRANSFER_ENCODING);
        request.resume();
        response.setStatusCode(status < 100 ? 502 : status).putHeader(HttpHeaders.CONNECTION, "close")
            .end();
      }
    });
  }

  private void tunnel(HttpServerRequest request, NetSocket upstream, String[] head, Buffer rest) {
    metrics.forwarded(101);
    upstream.pause();
    HttpServerResponse response = request.response();
    response.headers().set(HttpHeaders.CONNECTION, "Upgrade");
    for (int i = 1; i < head.length; i++) {
      if (head[i].regionMatches(true, 0, "upgrade:", 0, 8)) {
        response.headers().set(HttpHeaders.UPGRADE, head[i].substring(8).trim());
      }
    }
    request.toNetSocket().onComplete(ar -> {
      if (ar.failed()) {
        upstream.close();
        return;
      }
      NetSocket downstream = ar.result();
      if (rest.length() > 0) {
        downstream.write(rest);
      }
      downstream.pipeTo(upstream);
      upstream.pipeTo(downstream);
      upstream.resume();
    });
  }

  private void fail(HttpServerRequest request, NetSocket upstream, UpstreamFailure failure) {
    upstream.handler(null);
    upstream.closeHandler(null);
    upstream.close();
    ProxyHandler.respondFailure(metrics, request, failure, "upgrade handshake failed");
  }

  private static int indexOfHeadEnd(Buffer buffer) {
    for (int i = 0; i + 3 < buffer.length(); i++) {
      if (buffer.getByte(i) == '\r' && buffer.getByte(i + 1) == '\n'
          && buffer.getByte(i + 2) == '\r' && buffer.getByte(i + 3) == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** Parses {@code HTTP/1.1 101 Switching Protocols}; -1 when it is not a status line. */
  private static int statusCode(String statusLine) {
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

}
