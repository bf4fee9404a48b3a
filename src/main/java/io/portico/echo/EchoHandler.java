package io.portico.echo;

import io.netty.channel.ChannelOption;
import io.portico.resource.GoDuration;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;

import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * Answers requests like the Gateway API conformance echo server (echo-basic) in HTTP mode:
 * {@code /health}, {@code /status/NNN}, {@code /retry/...}, a WebSocket echo on {@code /ws},
 * and a JSON description of every other request.
 */
final class EchoHandler implements Handler<HttpServerRequest> {

  private static final CharSequence APPLICATION_JSON =
      HttpHeaders.createOptimized("application/json");
  private static final CharSequence TEXT_PLAIN =
      HttpHeaders.createOptimized("text/plain; charset=utf-8");
  private static final CharSequence CONTENT_TYPE_OPTIONS =
      HttpHeaders.createOptimized("X-Content-Type-Options");
  private static final CharSequence NOSNIFF = HttpHeaders.createOptimized("nosniff");
  private static final CharSequence ECHO_SET_HEADER =
      HttpHeaders.createOptimized("X-Echo-Set-Header");
  private static final String HEALTH = "/health";
  private static final String STATUS_PREFIX = "/status/";
  private static final String RETRY_PREFIX = "/retry/";
  private static final String WEBSOCKET = "/ws";
  private static final String EMPTY = "";

  private final Vertx vertx;
  private final String pod;
  private final String namespace;
  private final IntSupplier actualPort;
  private final RecentUris received;
  private final boolean h2cOnly;
  /** Attempts seen per {@code /retry} uuid. */
  private final Map<String, Integer> retryAttempts = new ConcurrentHashMap<>();
  private volatile String httpPort;
  /** What {@code /health} answers (200 unless a test made the pod sick). */
  volatile int healthStatus = 200;
  /** When not 0, every request except {@code /health} is answered with this status. */
  volatile int faultStatus;

  EchoHandler(Vertx vertx, EchoOptions options, IntSupplier actualPort, RecentUris received) {
    this.vertx = vertx;
    this.h2cOnly = options.h2cOnly();
    this.pod = options.pod();
    this.namespace = options.namespace();
    this.actualPort = actualPort;
    this.received = received;
  }

  @Override
  public void handle(HttpServerRequest request) {
    received.add(request.uri());
    if (h2cOnly && request.version() != HttpVersion.HTTP_2) {
      // Like echo-basic's h2c port: an HTTP/1.x request that is not an h2c upgrade (those
      // arrive here as HTTP/2) is refused.
      request.response().setStatusCode(400).putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN)
          .putHeader(CONTENT_TYPE_OPTIONS, NOSNIFF).end("Expected h2c request\n");
      return;
    }
    if (request.canUpgradeToWebSocket() && WEBSOCKET.equals(normalizedPath(request))) {
      // Upgraded before the body is drained: the upgrade request has none and must not end.
      request.toWebSocket().onSuccess(EchoHandler::echoMessages);
      return;
    }
    if (request.isEnded()) {
      // end() throws once the request has been read in full.
      route(request);
    } else {
      // The body is drained first so that the answer never races a client still uploading.
      request.end().onSuccess(ignored -> route(request));
    }
  }

  private static String normalizedPath(HttpServerRequest request) {
    String path = request.path();
    if (path == null) {
      return EMPTY;
    }
    return path.contains("//") ? collapseSlashes(path) : path;
  }

  private void route(HttpServerRequest request) {
    String path = normalizedPath(request);
    if (path.equals(HEALTH)) {
      int health = healthStatus;
      request.response().setStatusCode(health).putHeader(HttpHeaders.CONTENT_TYPE, TEXT_PLAIN)
          .end(health == 200 ? "OK" : "unhealthy");
    } else if (faultStatus != 0) {
      request.response().setStatusCode(faultStatus).end();
    } else if (path.startsWith(STATUS_PREFIX)) {
      status(request, path);
    } else if (path.startsWith(RETRY_PREFIX)) {
      retry(request);
    } else {
      delayThenEcho(request);
    }
  }

  /** Sends every text and binary message back unchanged. */
  private static void echoMessages(ServerWebSocket socket) {
    socket.textMessageHandler(text -> socket.writeTextMessage(text));
    socket.binaryMessageHandler(data -> socket.writeBinaryMessage(data));
  }

  /**
   * {@code /retry/...?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]}: the first N
   * attempts for U fail after D, with status C or else with a TCP reset; later ones echo.
   */
  private void retry(HttpServerRequest request) {
    String uuid = request.getParam("uuid");
    String succeedAfter = request.getParam("succeedAfter");
    int required;
    Integer code;
    Duration delay;
    try {
      if (uuid == null || uuid.isEmpty() || succeedAfter == null) {
        throw new IllegalArgumentException("uuid and succeedAfter are required");
      }
      required = Integer.parseInt(succeedAfter);
      String responseCode = request.getParam("responseCode");
      code = responseCode == null || responseCode.isEmpty() ? null
          : Integer.valueOf(responseCode);
      if (code != null && (code < 200 || code > 599)) {
        throw new IllegalArgumentException("responseCode " + code + " out of range");
      }
      String delayRetry = request.getParam("delayRetry");
      delay = delayRetry == null || delayRetry.isEmpty() ? null : GoDuration.parse(delayRetry);
    } catch (IllegalArgumentException e) {
      error(request.response(), 400, e.getMessage());
      return;
    }
    if (retryAttempts.merge(uuid, 1, Integer::sum) > required) {
      echo(request);
      return;
    }
    Runnable failAttempt = () -> {
      if (code != null) {
        request.response().setStatusCode(code).end();
      } else {
        reset(request);
      }
    };
    if (delay == null || delay.isZero() || delay.isNegative()) {
      failAttempt.run();
    } else {
      vertx.setTimer(Math.max(1, delay.toMillis()), id -> failAttempt.run());
    }
  }

  /** Fails the attempt without a response: a TCP reset (SO_LINGER 0), or a stream reset. */
  private static void reset(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_2
        && request.connection() instanceof ConnectionBase connection) {
      connection.channel().config().setOption(ChannelOption.SO_LINGER, 0);
      connection.channel().close();
    } else {
      request.response().reset();
    }
  }

  private static void status(HttpServerRequest request, String path) {
    int code = statusCode(path);
    HttpServerResponse response = request.response();
    if (code < 0) {
      response.setStatusCode(400).end();
      return;
    }
    if (code < 200) {
      // A 1xx cannot be a final response; like Go's WriteHeader, send it as an informational
      // response where HTTP allows one and finish with an empty 200.
      if (request.version() != HttpVersion.HTTP_1_0) {
        if (code == 100) {
          response.writeContinue();
        } else if (code == 103) {
          response.writeEarlyHints(HttpHeaders.headers());
        }
      }
      code = 200;
    }
    response.setStatusCode(code).end();
  }

  /** Returns the three-digit code after {@code /status/} if it is 100-599, else -1. */
  static int statusCode(String path) {
    int start = STATUS_PREFIX.length();
    if (path.length() != start + 3) {
      return -1;
    }
    int code = 0;
    for (int i = start; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      code = code * 10 + (c - '0');
    }
    return code >= 100 && code <= 599 ? code : -1;
  }

  private void delayThenEcho(HttpServerRequest request) {
    Duration delay;
    try {
      delay = delay(request);
    } catch (IllegalArgumentException e) {
      error(request.response(), 400, e.getMessage());
      return;
    }
    if (delay == null || delay.isNegative() || delay.isZero()) {
      echo(request);
      return;
    }
    long millis = delay.toMillis() + (delay.toNanosPart() % 1_000_000 == 0 ? 0 : 1);
    HttpServerResponse response = request.response();
    long timer = vertx.setTimer(millis, id -> {
      if (!response.closed()) {
        echo(request);
      }
    });
    response.closeHandler(ignored -> vertx.cancelTimer(timer));
  }

  /** Returns the {@code delay} query parameter, or null when there is none. */
  private static Duration delay(HttpServerRequest request) {
    String query = request.query();
    if (query == null || !query.contains("delay=")) {
      return null;
    }
    String value = request.getParam("delay");
    return value == null || value.isEmpty() ? null : GoDuration.parse(value);
  }

  private void echo(HttpServerRequest request) {
    MultiMap in = request.headers();
    JsonObject headers = new JsonObject();
    for (Map.Entry<String, String> header : in) {
      String name = header.getKey();
      // Like Go's net/http, the Host header and HTTP/2 pseudo-headers appear only as "host".
      if (name.isEmpty() || name.charAt(0) == ':' || name.equalsIgnoreCase("host")) {
        continue;
      }
      String canonical = canonicalName(name);
      JsonArray values = headers.getJsonArray(canonical);
      if (values == null) {
        values = new JsonArray();
        headers.put(canonical, values);
      }
      values.add(header.getValue());
    }
    String port = httpPort;
    if (port == null) {
      port = String.valueOf(actualPort.getAsInt());
      httpPort = port;
    }
    JsonObject body = new JsonObject()
        .put("path", request.uri())
        .put("host", host(request))
        .put("method", request.method().name())
        .put("proto", proto(request.version()))
        .put("headers", headers)
        .put("httpPort", port)
        .put("namespace", namespace)
        .put("ingress", EMPTY)
        .put("service", EMPTY)
        .put("pod", pod);
    if (request.isSSL()) {
      body.put("tls", tls(request));
    }
    HttpServerResponse response = request.response();
    if (in.contains(ECHO_SET_HEADER)) {
      setEchoHeaders(in.getAll(ECHO_SET_HEADER), response.headers());
    }
    response.putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .putHeader(CONTENT_TYPE_OPTIONS, NOSNIFF)
        .end(body.toBuffer());
  }

  /**
   * The TLS facts echo-basic reports (Go's tls.ConnectionState), as far as Java has them; the
   * HTTP echo writes them as JSON, the gRPC echo as protobuf fields.
   *
   * @param peerCertificates the client's certificates as PEM (an empty entry for one that
   *     cannot be encoded)
   */
  record TlsFacts(String version, String serverName, String cipherSuite,
      List<String> peerCertificates) {

    static TlsFacts of(HttpServerRequest request) {
      SSLSession session = request.sslSession();
      List<String> peers = new ArrayList<>();
      try {
        for (Certificate certificate : request.connection().peerCertificates()) {
          peers.add(pem(certificate));
        }
      } catch (SSLPeerUnverifiedException e) {
        // no client certificate
      } catch (CertificateEncodingException e) {
        peers.add(EMPTY);
      }
      String serverName = request.connection().indicatedServerName();
      return new TlsFacts(session == null ? EMPTY : session.getProtocol(),
          serverName == null ? EMPTY : serverName,
          session == null ? EMPTY : session.getCipherSuite(), peers);
    }
  }

  private static JsonObject tls(HttpServerRequest request) {
    TlsFacts facts = TlsFacts.of(request);
    return new JsonObject().put("version", facts.version())
        .put("peerCertificates", new JsonArray(new ArrayList<>(facts.peerCertificates())))
        .put("serverName", facts.serverName())
        .put("negotiatedProtocol", request.version() == HttpVersion.HTTP_2 ? "h2" : "http/1.1")
        .put("cipherSuite", facts.cipherSuite());
  }

  private static String pem(Certificate certificate) throws CertificateEncodingException {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  private static void error(HttpServerResponse response, int status, String message) {
    response.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, APPLICATION_JSON)
        .putHeader(CONTENT_TYPE_OPTIONS, NOSNIFF)
        .end(new JsonObject().put("message", message).toBuffer());
  }

  private static String host(HttpServerRequest request) {
    if (request.version() != HttpVersion.HTTP_2) {
      String host = request.headers().get(HttpHeaders.HOST);
      if (host != null) {
        return host;
      }
    }
    HostAndPort authority = request.authority();
    if (authority == null) {
      return EMPTY;
    }
    return authority.port() < 0 ? authority.host() : authority.host() + ":" + authority.port();
  }

  private static String proto(HttpVersion version) {
    switch (version) {
      case HTTP_1_0:
        return "HTTP/1.0";
      case HTTP_2:
        return "HTTP/2.0";
      default:
        return "HTTP/1.1";
    }
  }

  /**
   * Applies {@code X-Echo-Set-Header: Name:value,Name2:value2} values: each entry becomes a
   * response header, a name given again gets its values joined with a comma, empty entries and
   * entries that are not a valid header are skipped.
   */
  static void setEchoHeaders(List<String> lists, MultiMap out) {
    Map<String, String> collected = new LinkedHashMap<>();
    for (String list : lists) {
      int start = 0;
      while (start <= list.length()) {
        int end = list.indexOf(',', start);
        if (end < 0) {
          end = list.length();
        }
        String entry = list.substring(start, end).trim();
        start = end + 1;
        int colon = entry.indexOf(':');
        String name = colon < 0 ? entry : entry.substring(0, colon).trim();
        String value = colon < 0 ? EMPTY : entry.substring(colon + 1).trim();
        if (!isToken(name) || !isFieldValue(value) || isFraming(name)) {
          continue;
        }
        collected.merge(name, value, (old, added) -> old + "," + added);
      }
    }
    for (Map.Entry<String, String> header : collected.entrySet()) {
      out.set(header.getKey(), header.getValue());
    }
  }

  /** Content-Length and Transfer-Encoding set by a client would corrupt the message framing. */
  private static boolean isFraming(String name) {
    return name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("transfer-encoding");
  }

  /**
   * Returns {@code name} in Go's canonical MIME header form ({@code x-forwarded-for} becomes
   * {@code X-Forwarded-For}); names with characters outside the token set stay unchanged.
   */
  static String canonicalName(String name) {
    boolean upper = true;
    boolean canonical = true;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isTokenChar(c)) {
        return name;
      }
      if (upper ? c >= 'a' && c <= 'z' : c >= 'A' && c <= 'Z') {
        canonical = false;
      }
      upper = c == '-';
    }
    if (canonical) {
      return name;
    }
    char[] chars = name.toCharArray();
    upper = true;
    for (int i = 0; i < chars.length; i++) {
      char c = chars[i];
      if (upper && c >= 'a' && c <= 'z') {
        c = (char) (c - ('a' - 'A'));
      } else if (!upper && c >= 'A' && c <= 'Z') {
        c = (char) (c + ('a' - 'A'));
      }
      chars[i] = c;
      upper = c == '-';
    }
    return new String(chars);
  }

  private static boolean isToken(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isTokenChar(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** RFC 9110 tchar. */
  private static boolean isTokenChar(char c) {
    if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
      return true;
    }
    return c < 128 && "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }

  private static boolean isFieldValue(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < ' ' && c != '\t' || c == 0x7f || c > 0xff) {
        return false;
      }
    }
    return true;
  }

  static String collapseSlashes(String path) {
    StringBuilder out = new StringBuilder(path.length());
    char previous = 0;
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c != '/' || previous != '/') {
        out.append(c);
      }
      previous = c;
    }
    return out.toString();
  }
}
