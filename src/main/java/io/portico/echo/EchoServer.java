package io.portico.echo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

import java.util.List;
import java.util.Objects;

/**
 * Runs an HTTP echo backend that behaves like the Gateway API conformance echo server
 * (echo-basic) in HTTP mode, for demos, benchmarks and tests.
 *
 * <p>It answers HTTP/1.0, HTTP/1.1 and h2c (prior knowledge and {@code Upgrade: h2c}) on one
 * port ({@linkplain EchoOptions#h2cOnly() only h2c} if asked; HTTPS with h2 via ALPN when given
 * {@linkplain EchoOptions#tls() TLS material}):
 * <ul>
 *   <li>{@code /health}: 200 {@code OK} (or what {@link #setHealthStatus} says);
 *   <li>{@code /status/NNN}: an empty response with status NNN (100-599, else 400);
 *   <li>any other path: 200 with a JSON description of the request ({@code path}, {@code host},
 *       {@code method}, {@code proto}, {@code headers}, {@code httpPort}, {@code namespace},
 *       {@code ingress}, {@code service}, {@code pod}), after {@code ?delay=<Go duration>} if
 *       given, with the response headers requested by {@code X-Echo-Set-Header}, and a
 *       {@code tls} object on TLS connections;
 *   <li>{@code /ws}: a WebSocket echo (every text or binary message sent back unchanged);
 *   <li>{@code /retry/...?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]}: the first N-1
 *       attempts for U fail (after D), with status C or else with a TCP reset; later ones echo.
 * </ul>
 * Runs of {@code /} in the path are collapsed before choosing among these. Nothing is logged per
 * request; {@link #requestCount()} and {@link #receivedUris()} tell what arrived.
 */
public final class EchoServer {

  /** How many request URIs {@link #receivedUris()} keeps. */
  public static final int RECENT_URI_CAPACITY = 1000;

  private final HttpServer server;
  private final RecentUris received;
  private final EchoHandler handler;

  private EchoServer(HttpServer server, RecentUris received, EchoHandler handler) {
    this.server = server;
    this.received = received;
    this.handler = handler;
  }

  /** Makes {@code /health} answer {@code status} (200 by default), to test health checks. */
  public void setHealthStatus(int status) {
    handler.healthStatus = status;
  }

  /**
   * Makes every request but {@code /health} answer {@code status} with an empty body; 0 (the
   * default) echoes again. For tests of passive health checking.
   */
  public void setFaultStatus(int status) {
    handler.faultStatus = status;
  }

  /**
   * Starts an echo server on {@code options.host()}:{@code options.port()}; the future fails if
   * the port cannot be bound.
   */
  public static Future<EchoServer> start(Vertx vertx, EchoOptions options) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    RecentUris received = new RecentUris(RECENT_URI_CAPACITY);
    HttpServer server = vertx.createHttpServer(serverOptions(options));
    EchoHandler handler = new EchoHandler(vertx, options, server::actualPort, received);
    return server.requestHandler(handler)
        .listen(options.port(), options.host())
        .map(listening -> new EchoServer(listening, received, handler));
  }

  private static HttpServerOptions serverOptions(EchoOptions options) {
    HttpServerOptions server = new HttpServerOptions()
        .setHttp2ClearTextEnabled(true)
        // The handler drains the body before answering, so it needs the 100 Continue to come.
        .setHandle100ContinueAutomatically(true);
    EchoTls tls = options.tls();
    if (tls != null) {
      server.setSsl(true)
          .setSni(true) // to report the server name the client sent
          .setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions()
              .addCertValue(Buffer.buffer(tls.certificatePem()))
              .addKeyValue(Buffer.buffer(tls.keyPem())));
      if (tls.clientCaPem() != null) {
        server.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(tls.clientCaPem())))
            .setClientAuth(ClientAuth.REQUEST);
      }
    }
    return server;
  }

  /** Returns the port the server is bound to, the chosen one when started with port 0. */
  public int port() {
    return server.actualPort();
  }

  /** Returns how many requests have arrived so far, on any path. */
  public long requestCount() {
    return received.count();
  }

  /**
   * Returns the raw request URIs (path and query as received) of the last
   * {@value #RECENT_URI_CAPACITY} requests, oldest first, as a copy.
   */
  public List<String> receivedUris() {
    return received.snapshot();
  }

  /** Stops listening and closes open connections. */
  public Future<Void> close() {
    return server.close();
  }
}
