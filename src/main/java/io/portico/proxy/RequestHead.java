package io.portico.proxy;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;

import java.util.List;

/**
 * Holds an HTTP/1.x request head to what RFC 9112 asks of a server beyond what Netty's decoder
 * already refuses (a Transfer-Encoding without a final {@code chunked}, Content-Length with
 * Transfer-Encoding conflicts, obs-fold, bare CR/LF, NUL: those never reach the handler). A
 * well-formed origin-form request with at most Content-Length costs two header lookups here
 * and allocates nothing.
 */
final class RequestHead {

  /** Why a head is refused: the answer and its one-line reason. */
  enum Refusal {
    NO_HOST(UpstreamFailure.BAD_REQUEST, "missing Host header"),
    // RFC 9112 3.2: two Host headers are a 400; proxies that pick one enable cache poisoning.
    TWO_HOSTS(UpstreamFailure.BAD_REQUEST, "more than one Host header"),
    // RFC 9112 7: a sender must not apply chunked more than once.
    CHUNKED_TWICE(UpstreamFailure.BAD_REQUEST, "chunked applied more than once"),
    // RFC 9112 6.1: a transfer coding the server does not understand gets 501; Portico (as
    // Envoy) implements chunked only, and "identity" is no coding at all since RFC 7230.
    TRANSFER_CODING(UpstreamFailure.UNSUPPORTED_TRANSFER_CODING,
        "transfer codings other than a single chunked are not implemented"),
    BAD_TARGET_AUTHORITY(UpstreamFailure.BAD_REQUEST,
        "the absolute-form request target has no valid authority"),
    BAD_HOST(UpstreamFailure.BAD_REQUEST,
        "the Host header (HTTP/2: :authority) is not a valid host[:port]");

    final UpstreamFailure failure;
    final String detail;

    Refusal(UpstreamFailure failure, String detail) {
      this.failure = failure;
      this.detail = detail;
    }
  }

  private RequestHead() {
  }

  /** Returns why {@code request}'s head must be refused, or null when it may be served. */
  static Refusal check(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      // HTTP/2 has no Transfer-Encoding (Netty's codec refuses it) and one :authority.
      return hostAuthority(request) == null ? Refusal.NO_HOST : null;
    }
    MultiMap headers = request.headers();
    String host = headers.get(HttpHeaders.HOST);
    if (host == null || host.isEmpty()) {
      return Refusal.NO_HOST;
    }
    // Counted in place: a getAll per request builds a list every HTTP/1 request pays for.
    if (HopByHopHeaders.count(headers, "host") > 1) {
      return Refusal.TWO_HOSTS;
    }
    String coding = headers.get(HttpHeaders.TRANSFER_ENCODING);
    if (coding == null) {
      return null;
    }
    List<String> fields = headers.getAll(HttpHeaders.TRANSFER_ENCODING);
    return fields.size() == 1 && coding.equalsIgnoreCase("chunked") ? null
        : transferCodings(fields);
  }

  /**
   * Checks a Transfer-Encoding list Netty accepted (so its last coding is chunked): anything
   * besides that one chunked is refused.
   */
  private static Refusal transferCodings(List<String> fields) {
    int chunked = 0;
    int others = 0;
    for (String field : fields) {
      for (String coding : field.split(",")) {
        String name = coding.strip();
        if (name.isEmpty()) {
          continue;
        }
        if (name.equalsIgnoreCase("chunked")) {
          chunked++;
        } else {
          others++;
        }
      }
    }
    if (chunked > 1) {
      return Refusal.CHUNKED_TWICE;
    }
    return others > 0 || chunked == 0 ? Refusal.TRANSFER_CODING : null;
  }

  /**
   * Returns the request's authority: that of an absolute-form request target when it has one
   * (RFC 9112 3.2.2: the target's authority wins over the Host header, which is then replaced
   * upstream), else the Host header's (or HTTP/2's {@code :authority}). Null when the authority
   * used is not a valid host[:port]: {@link #authorityRefusal} says which.
   */
  static HostAndPort authority(HttpServerRequest request) {
    if (!isAbsoluteForm(request)) {
      // "/path", "*" (OPTIONS) or authority-form (CONNECT): the Host's.
      return hostAuthority(request);
    }
    String target = request.uri();
    int schemeEnd = target.indexOf("://");
    int start = schemeEnd + 3;
    int end = start;
    while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
      end++;
    }
    String authority = target.substring(start, end);
    if (authority.isEmpty() || authority.indexOf('@') >= 0) {
      return null; // userinfo is deprecated (RFC 9110 4.2.4) and a classic confusion vector
    }
    String scheme = target.substring(0, schemeEnd);
    if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
      return null;
    }
    return parse(authority);
  }

  /** Why a request whose {@link #authority} is null is refused. */
  static Refusal authorityRefusal(HttpServerRequest request) {
    return isAbsoluteForm(request) ? Refusal.BAD_TARGET_AUTHORITY : Refusal.BAD_HOST;
  }

  /** Whether the request target is absolute-form ({@code http://host/path}): HTTP/1 only. */
  private static boolean isAbsoluteForm(HttpServerRequest request) {
    String target = request.uri();
    return request.version() != HttpVersion.HTTP_2 && !target.isEmpty()
        && target.charAt(0) != '/' && target.contains("://");
  }

  /**
   * The Host header's (HTTP/2: {@code :authority}) host[:port], or null when it is not one.
   * Vert.x's parser throws on some malformed percent-encodings ({@code a%00}, {@code a%.b})
   * instead of returning null: those are invalid too, not a failure of Portico's.
   */
  private static HostAndPort hostAuthority(HttpServerRequest request) {
    try {
      return request.authority();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** {@code authority} as host[:port], or null when it is not one (Vert.x's parser may throw). */
  static HostAndPort parse(String authority) {
    try {
      return HostAndPort.parseAuthority(authority, -1);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
