package io.portico.proxy;

import io.portico.health.HealthRegistry;
import io.portico.health.Outcome;
import io.portico.ir.Endpoint;
import io.portico.ir.Filters;
import io.portico.ir.Route;
import io.portico.proxy.lb.AffinityResponse;
import io.vertx.core.Future;
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
 *
 * <p>Passive health checking counts every handshake like an HTTP attempt: a refused or timed-out
 * connect, a reset or close before the answer's head, or an unparseable head is a local-origin
 * failure; the endpoint's status otherwise (101 and refusals below 500 are successes, 5xx count
 * as 5xx / gateway errors).
 *
 * <p>The affinity cookie or session names the endpoint once it has answered, 101 or not (as any
 * relayed HTTP answer would); an error Portico answers itself (502 for a failed connect or
 * handshake) carries none.
 */
final class UpgradeForwarder {

  /** Largest response head accepted from an endpoint during the handshake. */
  private static final int MAX_HEAD_BYTES = 16 * 1024;

  private final NetClient client;
  private final ProxyMetrics metrics;
  private final Responder responder;

  UpgradeForwarder(NetClient client, ProxyMetrics metrics, Responder responder) {
    this.client = client;
    this.metrics = metrics;
    this.responder = responder;
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
   * @param endpoint the endpoint picked for the request
   */
  void forward(ProxyRequest call, Endpoint endpoint, HealthRegistry health) {
    HttpServerRequest request = call.request();
    Route route = call.route();
    Filters backendFilters = call.backendFilters();
    String uri = call.upstreamUri();
    HostAndPort authority = call.authority();
    HostAndPort upstreamAuthority = call.upstreamAuthority();
    client.connect(endpoint.port(), endpoint.host()).onComplete(ar -> {
      if (ar.failed()) {
        health.report(endpoint, Outcome.LOCAL_ORIGIN_FAILURE);
        responder.fail(request, UpstreamFailure.of(ar.cause()),
            "upgrade to " + endpoint + " failed");
        return;
      }
      NetSocket upstream = ar.result();
      upstream.pause();
      upstream.write(handshake(request, uri, authority, upstreamAuthority, route.filters(),
          backendFilters));
      awaitHead(new Handshake(request, upstream, endpoint, route, backendFilters, health),
          Buffer.buffer());
      upstream.resume();
    });
  }

  private static Buffer handshake(HttpServerRequest request, String uri, HostAndPort authority,
      HostAndPort upstreamAuthority, Filters ruleFilters, Filters backendFilters) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    HopByHopHeaders.copy(request.headers(), headers, "host");
    RequestFilters.modifyRequestHeaders(headers, ruleFilters, backendFilters);
    UpstreamHeaders.addForwarded(request, headers, authority);
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

  /** One handshake in progress: what the answer's handling needs. */
  private record Handshake(HttpServerRequest request, NetSocket upstream, Endpoint endpoint,
      Route route, Filters backendFilters, HealthRegistry health) {
  }

  /** Reads the endpoint's response head, then switches to the tunnel or relays the refusal. */
  private void awaitHead(Handshake handshake, Buffer received) {
    NetSocket upstream = handshake.upstream;
    upstream.exceptionHandler(e -> fail(handshake, UpstreamFailure.RESET));
    upstream.closeHandler(v -> fail(handshake, UpstreamFailure.RESET));
    upstream.handler(chunk -> {
      received.appendBuffer(chunk);
      int end = indexOfHeadEnd(received);
      if (end < 0) {
        if (received.length() > MAX_HEAD_BYTES) {
          fail(handshake, UpstreamFailure.RESET);
        }
        return;
      }
      upstream.handler(null);
      upstream.closeHandler(null);
      // The handshake is decided: a later failure is the tunnel's (or the close below), not
      // another outcome to count.
      upstream.exceptionHandler(e -> { });
      String[] lines = received.getString(0, end, "ISO-8859-1").split("\r\n");
      int status = statusCode(lines[0]);
      if (status < 100) {
        // Not HTTP: a protocol error, answered by Portico (502) like a reset.
        fail(handshake, UpstreamFailure.RESET);
        return;
      }
      handshake.health.report(handshake.endpoint, Outcome.ofStatus(status));
      HttpServerRequest request = handshake.request;
      HttpServerResponse response = request.response();
      // The endpoint answered: the cookie or session names it, 101 or not, as on a relayed
      // HTTP answer (added before the endpoint's own headers and the response filters, as
      // Forwarder does, so a filter removing Set-Cookie removes it too).
      AffinityResponse.answered(request, handshake.route.backends(), handshake.endpoint);
      try {
        for (int i = 1; i < lines.length; i++) {
          int colon = lines[i].indexOf(':');
          if (colon > 0) {
            String name = lines[i].substring(0, colon).trim();
            if (!HopByHopHeaders.isHopByHop(name)) {
              response.headers().add(name, lines[i].substring(colon + 1).trim());
            }
          }
        }
      } catch (IllegalArgumentException e) {
        // A header name or value Vert.x refuses (a control character, a bare LF): the answer
        // is not HTTP, as for a relayed answer Netty's decoder refuses.
        // (Its status is reported to health checking already: one outcome per handshake.)
        upstream.close();
        responder.failInsteadOfAnswer(request, UpstreamFailure.RESET,
            "upgrade answer with an invalid header: " + Responder.printable(e));
        return;
      }
      RequestFilters.modifyResponseHeaders(response.headers(), handshake.route.filters(),
          handshake.backendFilters);
      Buffer rest = received.getBuffer(end + 4, received.length());
      if (status == 101) {
        tunnel(request, upstream, lines, rest);
      } else {
        // The endpoint refused to switch: its status reaches the client, the connection ends.
        metrics.forwarded(status);
        upstream.close();
        response.headers().remove(HttpHeaders.CONTENT_LENGTH).remove(HttpHeaders.TRANSFER_ENCODING);
        request.resume();
        response.setStatusCode(status).putHeader(HttpHeaders.CONNECTION, "close").end();
      }
    });
  }

  private void tunnel(HttpServerRequest request, NetSocket upstream, String[] head, Buffer rest) {
    metrics.forwarded(101);
    upstream.pause();
    HttpServerResponse response = request.response();
    if (response.closed()) {
      upstream.close(); // The client left while the endpoint answered: nothing to tunnel to.
      return;
    }
    response.headers().set(HttpHeaders.CONNECTION, "Upgrade");
    for (int i = 1; i < head.length; i++) {
      if (head[i].regionMatches(true, 0, "upgrade:", 0, 8)) {
        response.headers().set(HttpHeaders.UPGRADE, head[i].substring(8).trim());
      }
    }
    Future<NetSocket> switched;
    try {
      switched = request.toNetSocket();
    } catch (RuntimeException e) {
      // Vert.x throws (NoSuchElementException: httpDecoder) when the client's connection is
      // going away under the switch (seen with a client that half-closed after its request).
      upstream.close();
      ClientFailures.report(metrics, ClientFailureCause.CONNECTION_CLOSED, e);
      return;
    }
    switched.onComplete(ar -> {
      if (ar.failed()) {
        upstream.close();
        return;
      }
      NetSocket downstream = ar.result();
      if (rest.length() > 0) {
        downstream.write(rest);
      }
      // Not pipeTo: it ends the peer when Vert.x reports the end, which can come before bytes
      // held back while paused (see SocketSplice); a slow client lost the end of the answer.
      SocketSplice.splice(downstream, upstream, null, () -> { });
      upstream.resume();
    });
  }

  /** Ends a handshake that got no usable answer: a local-origin failure, Portico's 502. */
  private void fail(Handshake handshake, UpstreamFailure failure) {
    NetSocket upstream = handshake.upstream;
    upstream.handler(null);
    upstream.closeHandler(null);
    upstream.exceptionHandler(e -> { }); // Counted once, here.
    upstream.close();
    handshake.health.report(handshake.endpoint, Outcome.LOCAL_ORIGIN_FAILURE);
    responder.fail(handshake.request, failure, "upgrade handshake failed");
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
