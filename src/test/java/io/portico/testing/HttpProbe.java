package io.portico.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * A real HTTP client for end-to-end tests (the JDK's): sends one request and waits for the
 * whole answer. Not Vert.x's client: chained from the JUnit thread, its {@code body()} can be
 * attached after the response has already arrived and then waits forever. The Host header is set freely because the surefire configuration allows it
 * ({@code jdk.httpclient.allowRestrictedHeaders=host}).
 */
public final class HttpProbe implements AutoCloseable {

  /** A complete response. */
  public record Response(int status, MultiMap headers, String body, String version) {

    public JsonObject json() {
      return new JsonObject(body);
    }

    /** The echo backend's pod name, or null when the body is not an echo answer. */
    public String pod() {
      try {
        return json().getString("pod");
      } catch (RuntimeException e) {
        return null;
      }
    }

    /** The first value of a request header as the echo backend received it. */
    public String echoedHeader(String canonicalName) {
      JsonObject headers = json().getJsonObject("headers");
      return headers.containsKey(canonicalName)
          ? headers.getJsonArray(canonicalName).getString(0) : null;
    }
  }

  private final HttpClient http1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final HttpClient http2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
      .connectTimeout(Duration.ofSeconds(5)).build();

  public Response get(int port, String host, String uri) {
    return send(HttpMethod.GET, port, host, uri, MultiMap.caseInsensitiveMultiMap(), null);
  }

  /** GET from a gateway listening on {@code address} (a loopback address other than 127.0.0.1). */
  public Response getAt(String address, int port, String host, String uri) {
    return send(http1, HttpMethod.GET, address, port, host, uri, MultiMap.caseInsensitiveMultiMap(),
        null);
  }

  public Response send(HttpMethod method, int port, String host, String uri, MultiMap headers,
      Buffer body) {
    return send(http1, method, port, host, uri, headers, body);
  }

  /** Sends over HTTP/2 (cleartext, negotiated by Upgrade: h2c). */
  public Response sendHttp2(HttpMethod method, int port, String host, String uri) {
    return send(http2, method, port, host, uri, MultiMap.caseInsensitiveMultiMap(), null);
  }

  private static Response send(HttpClient client, HttpMethod method, int port, String host,
      String uri, MultiMap headers, Buffer body) {
    return send(client, method, "127.0.0.1", port, host, uri, headers, body);
  }

  private static Response send(HttpClient client, HttpMethod method, String address, int port,
      String host, String uri, MultiMap headers, Buffer body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + address + ":" + port + uri))
        .timeout(Duration.ofSeconds(20))
        .header("Host", host)
        .method(method.name(), body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body.getBytes()));
    for (Map.Entry<String, String> header : headers) {
      request.header(header.getKey(), header.getValue());
    }
    try {
      HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      MultiMap responseHeaders = MultiMap.caseInsensitiveMultiMap();
      response.headers().map().forEach(responseHeaders::add);
      return new Response(response.statusCode(), responseHeaders, response.body(),
          response.version().name());
    } catch (IOException e) {
      throw new AssertionError("request " + method + " " + host + uri + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    // The JDK client's connections close with it once unreferenced.
  }
}
