package io.portico.conformance;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Runs {@code expectResponse}: one HTTP exchange through a Gateway, repeated until it matches
 * three times in a row (the upstream consistency rule), checking status, redirect, response
 * headers and what the echo backend saw.
 */
final class ResponseSteps {

  private static final Duration MAX_TIME_TO_CONSISTENCY = Duration.ofSeconds(30);
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration PAUSE_AFTER_MISS = Duration.ofMillis(100);
  private static final int CONSECUTIVE_MATCHES = 3;

  private final CaseContext context;

  ResponseSteps(CaseContext context) {
    this.context = context;
  }

  void expectResponse(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    Map<String, Object> request = Yaml.map(step.get("request"));
    String protocol = protocol(request);
    int port = step.get("port") instanceof Number n ? n.intValue() : 80;
    String requestId = UUID.randomUUID().toString();
    context.requestIds().put("requestId", requestId);
    awaitConsistently(describeRequest(request, gateway, port) + ": expected "
        + describeExpectation(step), () -> {
          String uuid = UUID.randomUUID().toString();
          java.util.function.UnaryOperator<String> placeholders = path -> path
              .replace("{uuid}", uuid).replace("{requestId}", requestId);
          Exchange exchange = send(step, request, protocol, gateway, port, placeholders);
          if (exchange.error() != null) {
            return exchange.error();
          }
          String certMiss = clientCertMiss(step, exchange);
          if (certMiss != null) {
            return certMiss;
          }
          String mismatch = mismatch(step, request, exchange.path(),
              Objects.toString(request.get("method"), "GET"), exchange.response(), placeholders);
          return mismatch == null ? null
              : mismatch + " (" + describeResponse(exchange.response()) + ")";
        });
  }

  /**
   * Runs {@code expectRequestError}: the request must end in a transport or TLS error three
   * times in a row; any completed HTTP response counts as "not yet".
   */
  void expectRequestError(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    Map<String, Object> request = Yaml.map(step.get("request"));
    String protocol = protocol(request);
    int port = step.get("port") instanceof Number n ? n.intValue() : 80;
    awaitConsistently(describeRequest(request, gateway, port)
        + ": expected a transport/TLS error", () -> {
          Exchange exchange = send(step, request, protocol, gateway, port, path -> path);
          if (exchange.error() == null) {
            return "got a response (" + describeResponse(exchange.response()) + ")";
          }
          if (exchange.error().contains("has no status address")) {
            return exchange.error();
          }
          return clientCertMiss(step, exchange);
        });
  }

  /**
   * Runs {@code expectHttpFailure} (upstream MakeRequestAndExpectFailure): three responses in a
   * row that are neither 200 nor a timeout (408/504 and transport errors count as "not yet");
   * any 200 fails the case at once.
   */
  void expectHttpFailure(Map<String, Object> step) {
    String[] gateway = CaseContext.ref(step.get("gateway"));
    Map<String, Object> request = Yaml.map(step.get("request"));
    String protocol = protocol(request);
    int port = step.get("port") instanceof Number n ? n.intValue() : 80;
    awaitConsistently(describeRequest(request, gateway, port) + ": expected a failure response",
        () -> {
          Exchange exchange = send(step, request, protocol, gateway, port, path -> path);
          if (exchange.error() != null) {
            return exchange.error();
          }
          int status = exchange.response().status();
          if (status == 200) {
            throw new StepFailure(describeRequest(request, gateway, port)
                + ": expected a failure, got 200 (" + describeResponse(exchange.response()) + ")");
          }
          return status == 408 || status == 504 ? "got " + status : null;
        });
  }

  private static String protocol(Map<String, Object> request) {
    String protocol = Objects.toString(request.get("protocol"), "HTTP");
    if (!List.of("HTTP", "HTTPS", "H2", "H2C_PRIOR_KNOWLEDGE").contains(protocol)) {
      throw new StepFailure("request protocol " + protocol + " is not supported by the runner"
          + " yet (only HTTP/1.1 cleartext or TLS, h2 over TLS and h2c with prior knowledge)");
    }
    return protocol;
  }

  private static String clientCertMiss(Map<String, Object> step, Exchange exchange) {
    if (Boolean.TRUE.equals(step.get("expectClientCertRequested"))
        && !exchange.clientCertRequested()) {
      return "the gateway did not ask for a client certificate during the TLS handshake"
          + (exchange.error() != null ? " (" + exchange.error() + ")" : "");
    }
    return null;
  }

  /**
   * Repeats {@code attempt} (null = it matched) until it matches {@value #CONSECUTIVE_MATCHES}
   * times in a row, pausing after each miss; fails after MaxTimeToConsistency, or earlier once
   * Portico's state has settled.
   */
  private void awaitConsistently(String what, java.util.function.Supplier<String> attempt) {
    long start = System.nanoTime();
    long deadline = start + MAX_TIME_TO_CONSISTENCY.toNanos();
    int matches = 0;
    String lastMiss = "no attempt";
    while (true) {
      String miss = attempt.get();
      if (miss == null) {
        if (++matches == CONSECUTIVE_MATCHES) {
          return;
        }
        continue;
      }
      matches = 0;
      lastMiss = miss;
      long now = System.nanoTime();
      boolean settled = now - start >= Poll.SETTLED.toNanos()
          && context.view().unchangedFor(Poll.SETTLED)
          && !Boolean.getBoolean("portico.conformance.fullTimeouts");
      if (now >= deadline || settled) {
        throw new StepFailure(what + "; no " + CONSECUTIVE_MATCHES + " consecutive matches "
            + (settled ? "after " + Duration.ofNanos(now - start).toSeconds() + " s (Portico's"
                + " state unchanged for " + Poll.SETTLED.toSeconds() + " s)"
                : "within " + MAX_TIME_TO_CONSISTENCY.toSeconds() + " s")
            + "; last seen: " + lastMiss);
      }
      Poll.pause(PAUSE_AFTER_MISS);
    }
  }

  /**
   * One attempt: the response, or what went wrong sending it; the path actually sent; whether
   * the server asked for a client certificate.
   */
  private record Exchange(RawHttp.Response response, String error, String path,
      boolean clientCertRequested) {}

  /** Sends one request on a new connection (and, for TLS, a new session). */
  private Exchange send(Map<String, Object> step, Map<String, Object> request, String protocol,
      String[] gateway, int port, java.util.function.UnaryOperator<String> placeholders) {
    String address = GatewayAddresses.address(context.view().state(), gateway[0], gateway[1]);
    if (address == null) {
      return new Exchange(null, "Gateway " + gateway[0] + "/" + gateway[1]
          + " has no status address", null, false);
    }
    boolean h2 = protocol.equals("H2");
    boolean https = protocol.equals("HTTPS") || h2;
    if (h2 && request.get("clientCert") != null) {
      throw new StepFailure("clientCert with protocol H2 is not supported by the runner yet");
    }
    TrustMaterial.ClientTls clientTls = https && !h2 ? TrustMaterial.client(context.store(),
        Yaml.string(request.get("trust")), Yaml.string(request.get("clientCert"))) : null;
    RawHttp.Tls tls = clientTls != null ? new RawHttp.Tls(clientTls.context(),
        Yaml.string(request.get("sni"))) : null;
    H2Http.Tls h2Tls = h2 ? new H2Http.Tls(TrustMaterial.trustManager(context.store(),
        Yaml.string(request.get("trust"))), Yaml.string(request.get("sni"))) : null;
    String path = placeholders.apply(Yaml.string(request.get("path")));
    String method = Objects.toString(request.get("method"), "GET");
    String host = request.get("host") != null ? Yaml.string(request.get("host"))
        : GatewayAddresses.defaultHost(address, port, https ? "https" : "http");
    List<Map.Entry<String, String>> headers = new ArrayList<>();
    Yaml.map(request.get("headers")).forEach((name, value) ->
        headers.add(Map.entry(name, Yaml.string(value))));
    List<String> setHeaders = new ArrayList<>();
    Yaml.map(step.get("backendSetResponseHeaders")).forEach((name, value) ->
        setHeaders.add(name + ":" + value));
    headers.add(Map.entry("X-Echo-Set-Header", String.join(",", setHeaders)));
    InetSocketAddress target = GatewayAddresses.connectTo(address, port);
    RawHttp.Request raw = new RawHttp.Request(method, path, host, headers,
        Yaml.string(request.get("body")));
    RawHttp.Response response;
    String error = null;
    try {
      response = protocol.equals("H2C_PRIOR_KNOWLEDGE") || h2
          ? H2Http.exchange(context.vertx(), target, raw, ATTEMPT_TIMEOUT, h2Tls)
          : RawHttp.exchange(target, raw, ATTEMPT_TIMEOUT, tls);
    } catch (IOException | RuntimeException e) {
      response = null;
      error = "request to " + target + " failed: " + e;
    }
    return new Exchange(response, error, path,
        clientTls != null && clientTls.certificateRequested().get());
  }

  private String mismatch(Map<String, Object> step, Map<String, Object> request,
      String path, String method, RawHttp.Response response,
      java.util.function.UnaryOperator<String> placeholders) {
    java.util.function.UnaryOperator<String> clientCertPem = this::resolvePem;
    Map<String, Object> expected = Yaml.map(step.get("response"));
    List<Integer> codes = new ArrayList<>();
    for (Object code : Yaml.list(expected.get("statusCodes"))) {
      codes.add(((Number) code).intValue());
    }
    if (codes.isEmpty()) {
      codes.add(200);
    }
    int status = response.status();
    boolean timeout = status == 408 || status == 504;
    if (!codes.contains(status) && !(timeout && (codes.contains(408) || codes.contains(504)))) {
      return "status " + status + ", expected one of " + codes;
    }
    if (status >= 300 && status < 400) {
      return step.containsKey("redirect")
          ? redirectMismatch(Yaml.map(step.get("redirect")), path, response,
              List.of("HTTPS", "H2").contains(protocol(request)) ? "https" : "http")
          : null;
    }
    if (status != 200 && status != 204) {
      return null;
    }
    String headerMismatch = responseHeadersMismatch(expected, response);
    if (headerMismatch != null) {
      return headerMismatch;
    }
    if (status != 200) {
      // Upstream compares what the backend saw only for 200 answers: a 204 (a CORS preflight
      // answered by the gateway) has no echo body.
      return null;
    }
    JsonObject echo;
    try {
      echo = new JsonObject(response.body());
    } catch (RuntimeException e) {
      echo = new JsonObject();
    }
    Map<String, Object> expectedRequest = new java.util.HashMap<>();
    if (step.containsKey("expectedRequest")) {
      expectedRequest.putAll(Yaml.map(step.get("expectedRequest")));
    } else {
      // Only these fields of the request describe what the backend sees (sni is the client's).
      for (String field : List.of("host", "method", "path", "headers")) {
        if (request.get(field) != null) {
          expectedRequest.put(field, request.get(field));
        }
      }
    }
    String echoMismatch = echoMismatch(expectedRequest, step.containsKey("expectedRequest"),
        path, method, echo, placeholders, clientCertPem);
    if (echoMismatch != null) {
      return echoMismatch;
    }
    String pod = echo.getString("pod", "");
    if (step.get("backend") != null && !pod.startsWith(Yaml.string(step.get("backend")))) {
      return "served by pod '" + pod + "', expected a pod of " + step.get("backend");
    }
    if (step.containsKey("namespace")
        && !Objects.toString(step.get("namespace"), "").equals(echo.getString("namespace", ""))) {
      return "echoed namespace '" + echo.getString("namespace", "") + "', expected '"
          + Objects.toString(step.get("namespace"), "") + "'";
    }
    return null;
  }

  /** Compares what the echo backend saw; the request itself is the default expectation. */
  private static String echoMismatch(Map<String, Object> expected, boolean explicit,
      String requestPath, String requestMethod, JsonObject echo,
      java.util.function.UnaryOperator<String> placeholders,
      java.util.function.UnaryOperator<String> clientCertPem) {
    String host = Yaml.string(expected.get("host"));
    if (host != null && !host.equals(echo.getString("host"))) {
      return "backend saw host '" + echo.getString("host") + "', expected '" + host + "'";
    }
    String method = explicit ? Objects.toString(expected.get("method"), "GET") : requestMethod;
    if (!method.equals(echo.getString("method"))) {
      return "backend saw method " + echo.getString("method") + ", expected " + method;
    }
    String path = explicit && expected.containsKey("path")
        ? placeholders.apply(Objects.toString(expected.get("path"), "")) : requestPath;
    if (!path.equals(echo.getString("path", ""))) {
      return "backend saw path '" + echo.getString("path", "") + "', expected '" + path + "'";
    }
    JsonObject headers = echo.getJsonObject("headers", new JsonObject());
    for (Map.Entry<String, Object> header : Yaml.map(expected.get("headers")).entrySet()) {
      String actual = echoedHeader(headers, header.getKey());
      if (!Objects.equals(actual, Yaml.string(header.getValue()))) {
        return "backend saw header " + header.getKey() + ": " + actual + ", expected "
            + header.getValue();
      }
    }
    for (String name : Yaml.strings(expected.get("absentHeaders"))) {
      if (echoedHeader(headers, name) != null) {
        return "backend saw header " + name + ": " + echoedHeader(headers, name)
            + ", expected it absent";
      }
    }
    if (expected.get("httpPort") != null
        && !Yaml.string(expected.get("httpPort")).equals(echo.getString("httpPort"))) {
      return "backend saw httpPort " + echo.getString("httpPort") + ", expected "
          + expected.get("httpPort");
    }
    JsonObject tls = echo.getJsonObject("tls");
    if (expected.get("sni") != null) {
      String serverName = tls == null ? null : tls.getString("serverName");
      if (!Yaml.string(expected.get("sni")).equals(serverName)) {
        return "backend saw TLS server name " + (tls == null ? "(no TLS)" : "'" + serverName
            + "'") + ", expected '" + expected.get("sni") + "'";
      }
    }
    if (expected.get("clientCert") != null) {
      String want = clientCertPem.apply(Yaml.string(expected.get("clientCert")));
      boolean seen = false;
      if (tls != null) {
        for (Object peer : tls.getJsonArray("peerCertificates", new JsonArray())) {
          seen |= samePem(want, String.valueOf(peer));
        }
      }
      if (!seen) {
        return "backend's TLS peer certificates do not include the expected client certificate"
            + (tls == null ? " (no TLS)" : " (" + tls.getJsonArray("peerCertificates",
                new JsonArray()).size() + " seen)");
      }
    }
    return null;
  }

  private static final java.util.regex.Pattern PEM_OF_SECRET =
      java.util.regex.Pattern.compile("\\$\\{PEM of Secret (\\S+) tls\\.crt\\}");

  /** Resolves {@code ${PEM of Secret ns/name tls.crt}} to that served certificate. */
  private String resolvePem(String value) {
    java.util.regex.Matcher matcher = PEM_OF_SECRET.matcher(value.trim());
    if (!matcher.matches()) {
      return value;
    }
    String[] ref = CaseContext.ref(matcher.group(1));
    Map<String, Object> secret = context.store().find("Secret", ref[0], ref[1]);
    if (secret == null) {
      throw new StepFailure("expectedRequest.clientCert: no Secret " + matcher.group(1));
    }
    return new String(java.util.Base64.getDecoder().decode(
        Yaml.string(Yaml.map(secret.get("data")).get("tls.crt"))),
        java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** Whether two PEM texts hold the same first certificate (formatting aside). */
  private static boolean samePem(String a, String b) {
    try {
      java.security.cert.CertificateFactory factory =
          java.security.cert.CertificateFactory.getInstance("X.509");
      return factory.generateCertificate(new java.io.ByteArrayInputStream(a.getBytes(
          java.nio.charset.StandardCharsets.US_ASCII))).equals(factory.generateCertificate(
              new java.io.ByteArrayInputStream(b.getBytes(
                  java.nio.charset.StandardCharsets.US_ASCII))));
    } catch (java.security.cert.CertificateException e) {
      return a.trim().equals(b.trim());
    }
  }

  private static String echoedHeader(JsonObject headers, String name) {
    for (String key : headers.fieldNames()) {
      if (key.equalsIgnoreCase(name)) {
        JsonArray values = headers.getJsonArray(key);
        List<String> list = new ArrayList<>();
        values.forEach(v -> list.add(String.valueOf(v)));
        return String.join(",", list);
      }
    }
    return null;
  }

  private static String responseHeadersMismatch(Map<String, Object> expected,
      RawHttp.Response response) {
    boolean ignoreWhitespace = Boolean.TRUE.equals(expected.get("ignoreWhitespace"));
    for (Map.Entry<String, Object> header : Yaml.map(expected.get("headers")).entrySet()) {
      String actual = response.joined(header.getKey());
      String want = Yaml.string(header.getValue());
      if (actual == null || !normalize(actual, ignoreWhitespace)
          .equals(normalize(want, ignoreWhitespace))) {
        return "response header " + header.getKey() + ": " + actual + ", expected " + want;
      }
    }
    for (Map.Entry<String, Object> header : Yaml.map(expected.get("validHeaderValues"))
        .entrySet()) {
      String actual = response.joined(header.getKey());
      boolean valid = actual != null && Yaml.strings(header.getValue()).stream()
          .anyMatch(v -> normalize(v, ignoreWhitespace).equals(normalize(actual, ignoreWhitespace)));
      if (!valid) {
        return "response header " + header.getKey() + ": " + actual + ", expected one of "
            + header.getValue();
      }
    }
    for (String name : Yaml.strings(expected.get("absentHeaders"))) {
      if (response.joined(name) != null) {
        return "response header " + name + ": " + response.joined(name) + ", expected absent";
      }
    }
    return null;
  }

  private static String normalize(String value, boolean ignoreWhitespace) {
    return ignoreWhitespace ? value.replace(" ", "") : value;
  }

  private static String redirectMismatch(Map<String, Object> redirect, String requestPath,
      RawHttp.Response response, String requestScheme) {
    String location = response.joined("Location");
    if (location == null) {
      return "no Location header";
    }
    URI uri;
    try {
      uri = URI.create(location);
    } catch (IllegalArgumentException e) {
      return "Location " + location + " is not a URI";
    }
    String scheme = Objects.toString(redirect.get("scheme"), requestScheme);
    if (!scheme.equals(uri.getScheme())) {
      return "Location " + location + ": scheme " + uri.getScheme() + ", expected " + scheme;
    }
    if (redirect.get("host") != null && !Yaml.string(redirect.get("host")).equals(uri.getHost())) {
      return "Location " + location + ": host " + uri.getHost() + ", expected "
          + redirect.get("host");
    }
    if (redirect.get("port") != null) {
      // The case files write the port as a string ('8083'), like the Go test.
      if (uri.getPort() != Integer.parseInt(Yaml.string(redirect.get("port")))) {
        return "Location " + location + ": port " + uri.getPort() + ", expected "
            + redirect.get("port");
      }
    } else {
      int defaultPort = "https".equals(scheme) ? 443 : 80;
      if (uri.getPort() != -1 && uri.getPort() != defaultPort) {
        return "Location " + location + ": port " + uri.getPort() + ", expected none or "
            + defaultPort;
      }
    }
    String path = Objects.toString(redirect.get("path"), requestPath);
    String actualPath = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/"
        : uri.getRawPath();
    if (redirect.get("path") == null) {
      // The default is the request's path; the query is not part of a Location's path.
      int query = path.indexOf('?');
      path = query < 0 ? path : path.substring(0, query);
    }
    if (!path.equals(actualPath)) {
      return "Location " + location + ": path " + actualPath + ", expected " + path;
    }
    return null;
  }

  private static String describeRequest(Map<String, Object> request, String[] gateway, int port) {
    return Objects.toString(request.get("method"), "GET") + " "
        + Objects.toString(request.get("host"), "(address)") + request.get("path")
        + (request.get("headers") == null ? "" : " headers " + request.get("headers"))
        + " via Gateway " + gateway[0] + "/" + gateway[1] + ":" + port;
  }

  private static String describeExpectation(Map<String, Object> step) {
    Map<String, Object> response = Yaml.map(step.get("response"));
    StringBuilder text = new StringBuilder("status "
        + (response.get("statusCodes") == null ? "[200]" : response.get("statusCodes")));
    if (step.get("backend") != null) {
      text.append(", backend ").append(step.get("backend"));
    }
    if (step.containsKey("namespace")) {
      text.append(", namespace '").append(Objects.toString(step.get("namespace"), ""))
          .append('\'');
    }
    if (step.containsKey("redirect")) {
      text.append(", redirect ").append(step.get("redirect"));
    }
    if (step.containsKey("expectedRequest")) {
      text.append(", backend request ").append(step.get("expectedRequest"));
    }
    return text.toString();
  }

  private static String describeResponse(RawHttp.Response response) {
    String pod;
    try {
      pod = new JsonObject(response.body()).getString("pod");
    } catch (RuntimeException e) {
      pod = null;
    }
    List<String> headers = new ArrayList<>();
    for (Map.Entry<String, String> header : response.headers()) {
      headers.add(header.getKey() + ": " + header.getValue());
    }
    return "status " + response.status() + ", pod " + pod + ", headers " + headers;
  }
}

