package io.portico.proxy;

import io.portico.proxy.upstream.UpstreamCall;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.HostAndPort;

/**
 * Prepares the headers of a request sent upstream from the client's: the Host header is
 * preserved, hop-by-hop headers are dropped, the route's filters (see {@link RequestFilters})
 * change the rest, then X-Forwarded-For / -Host are appended and X-Forwarded-Proto set.
 */
final class UpstreamHeaders {

  private static final String X_FORWARDED_FOR = "x-forwarded-for";
  private static final String X_FORWARDED_HOST = "x-forwarded-host";
  private static final String X_FORWARDED_PROTO = "x-forwarded-proto";

  private UpstreamHeaders() {
  }

  /**
   * Copies the client's headers of {@code call} to {@code upstream}, sets its authority to the
   * one sent upstream and applies the rule's and backendRef's request header filters;
   * X-Forwarded-Host gets the client's authority.
   */
  static void prepare(ProxyRequest call, UpstreamCall upstream) {
    HttpServerRequest request = call.request();
    MultiMap headers = upstream.headers();
    HopByHopHeaders.copy(request.headers(), headers, "host");
    // Portico answered any 100-continue itself; the upstream gets the body straight away.
    headers.remove(HttpHeaders.EXPECT);
    // TE is hop-by-hop, but "trailers" must reach gRPC servers (RFC 9113 8.2.2).
    String te = request.headers().get("te");
    if (te != null && te.toLowerCase(java.util.Locale.ROOT).contains("trailers")) {
      headers.set("te", "trailers");
    }
    upstream.authority(call.upstreamAuthority());
    RequestFilters.modifyRequestHeaders(headers, call.ruleFilters(), call.backendFilters());
    addForwarded(request, headers, call.authority());
  }

  /**
   * Frames the body {@code upstream} streams from {@code request}: the client's Content-Length
   * when it sent one, else chunked (on HTTP/2 the frames delimit the body).
   */
  static void frameBody(HttpServerRequest request, UpstreamCall upstream) {
    String length = request.headers().get(HttpHeaders.CONTENT_LENGTH);
    if (length == null) {
      // Vert.x needs the flag to stream a body of unknown length on HTTP/2 too (a gRPC call
      // has no Content-Length), and leaves Transfer-Encoding out of HTTP/2 frames itself.
      upstream.setChunked(true);
    } else {
      upstream.headers().set(HttpHeaders.CONTENT_LENGTH, length);
    }
  }

  /** Appends X-Forwarded-For and -Host, and sets X-Forwarded-Proto. */
  static void addForwarded(HttpServerRequest request, MultiMap headers,
      HostAndPort authority) {
    String client = clientAddress(request.remoteAddress());
    if (client != null) {
      append(headers, X_FORWARDED_FOR, client);
    }
    append(headers, X_FORWARDED_HOST, authority.toString());
    headers.set(X_FORWARDED_PROTO, request.isSSL() ? "https" : "http");
  }

  /**
   * The client's IP address as text. A client's address is an IP literal, which Vert.x keeps
   * as its host: read as it is instead of formatted anew from the InetAddress per request.
   */
  static String clientAddress(SocketAddress address) {
    if (address == null) {
      return null;
    }
    return address.hostName() == null && address.host() != null ? address.host()
        : address.hostAddress();
  }

  private static void append(MultiMap headers, String name, String value) {
    String existing = headers.get(name);
    headers.set(name, existing == null ? value : existing + ", " + value);
  }
}
