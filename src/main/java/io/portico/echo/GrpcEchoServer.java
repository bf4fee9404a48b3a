package io.portico.echo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.PemKeyCertOptions;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a gRPC echo backend that behaves like the Gateway API conformance echo server in gRPC
 * mode: service {@value #SERVICE}, whose {@code Echo} and {@code EchoTwo} answer an
 * {@code EchoResponse} describing the call (fully-qualified method, every metadata entry
 * received including {@code :authority}, the pod's context, TLS facts on a TLS port) and whose
 * {@code EchoThree} (like any other method) is UNIMPLEMENTED.
 *
 * <p>gRPC over HTTP/2 is written by hand on a Vert.x HTTP/2 server (h2c prior knowledge in
 * cleartext, h2 by ALPN with {@linkplain EchoOptions#tls() TLS material}): the messages are
 * small protobufs, encoded with {@link #field}. An HTTP/1.1 request is refused with HTTP 505.
 *
 * <p>The messages (echo-basic's grpcecho.proto): {@code EchoRequest {}};
 * {@code EchoResponse {Assertions assertions = 1; EchoRequest request = 2;}};
 * {@code Assertions {string fully_qualified_method = 1; repeated Header headers = 2;
 * string authority = 3; Context context = 4; TLSAssertions tls_assertions = 5;}};
 * {@code Header {string key = 1; string value = 2;}};
 * {@code Context {string namespace = 1; string ingress = 2; string service_name = 3;
 * string pod = 4;}}; {@code TLSAssertions {string version = 1; string negotiated_protocol = 2;
 * string server_name = 3; string cipher_suite = 4; repeated string peer_certificates = 5;}}.
 */
public final class GrpcEchoServer {

  /** The fully-qualified name of the echo service. */
  public static final String SERVICE = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho";

  private final HttpServer server;

  private GrpcEchoServer(HttpServer server) {
    this.server = server;
  }

  /** Starts the server; the future fails if the port cannot be bound. */
  public static Future<GrpcEchoServer> start(Vertx vertx, EchoOptions options) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    HttpServerOptions serverOptions = new HttpServerOptions().setHttp2ClearTextEnabled(true);
    if (options.tls() != null) {
      serverOptions.setSsl(true).setSni(true).setUseAlpn(true)
          .setKeyCertOptions(new PemKeyCertOptions()
              .addCertValue(Buffer.buffer(options.tls().certificatePem()))
              .addKeyValue(Buffer.buffer(options.tls().keyPem())));
    }
    HttpServer server = vertx.createHttpServer(serverOptions);
    return server.requestHandler(request -> handle(request, options))
        .listen(options.port(), options.host())
        .map(GrpcEchoServer::new);
  }

  /** Returns the port the server is bound to. */
  public int port() {
    return server.actualPort();
  }

  public Future<Void> close() {
    return server.close();
  }

  private static void handle(HttpServerRequest request, EchoOptions options) {
    HttpServerResponse response = request.response();
    if (request.version() != HttpVersion.HTTP_2) {
      response.setStatusCode(505).end("gRPC needs HTTP/2\n");
      return;
    }
    String path = request.path();
    String method = path.startsWith("/" + SERVICE + "/")
        ? path.substring(SERVICE.length() + 2) : null;
    // A call reset before its body ended has nobody left to answer.
    request.body().onSuccess(body -> {
      response.putHeader("content-type", "application/grpc");
      if (!"Echo".equals(method) && !"EchoTwo".equals(method)) {
        // Trailers-only, as grpc-go answers an unknown or unimplemented method.
        response.putHeader("grpc-status", "12")
            .putHeader("grpc-message", "unknown method " + path).end();
        return;
      }
      byte[] message = echoResponse(request, path, options);
      Buffer frame = Buffer.buffer(5 + message.length).appendByte((byte) 0)
          .appendInt(message.length).appendBytes(message);
      response.putTrailer("grpc-status", "0");
      response.end(frame);
    });
  }

  private static byte[] echoResponse(HttpServerRequest request, String path,
      EchoOptions options) {
    ByteArrayOutputStream assertions = new ByteArrayOutputStream();
    field(assertions, 1, path);
    field(assertions, 2, header(":authority", request.authority().toString()));
    for (Map.Entry<String, String> header : request.headers()) {
      field(assertions, 2, header(header.getKey(), header.getValue()));
    }
    field(assertions, 3, request.authority().toString());
    ByteArrayOutputStream context = new ByteArrayOutputStream();
    field(context, 1, options.namespace());
    field(context, 2, "");
    field(context, 3, "");
    field(context, 4, options.pod());
    field(assertions, 4, context.toByteArray());
    if (request.isSSL()) {
      field(assertions, 5, tls(request));
    }
    ByteArrayOutputStream response = new ByteArrayOutputStream();
    field(response, 1, assertions.toByteArray());
    field(response, 2, new byte[0]);
    return response.toByteArray();
  }

  private static byte[] header(String key, String value) {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    field(header, 1, key);
    field(header, 2, value);
    return header.toByteArray();
  }

  private static byte[] tls(HttpServerRequest request) {
    ByteArrayOutputStream tls = new ByteArrayOutputStream();
    EchoHandler.TlsFacts facts = EchoHandler.TlsFacts.of(request);
    field(tls, 1, facts.version());
    field(tls, 2, "h2");
    field(tls, 3, facts.serverName());
    field(tls, 4, facts.cipherSuite());
    facts.peerCertificates().forEach(pem -> field(tls, 5, pem));
    return tls.toByteArray();
  }

  private static void field(ByteArrayOutputStream out, int number, String value) {
    field(out, number, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a length-delimited protobuf field (wire type 2): a string or a nested message. */
  static void field(ByteArrayOutputStream out, int number, byte[] value) {
    varint(out, (number << 3) | 2);
    varint(out, value.length);
    out.writeBytes(value);
  }

  private static void varint(ByteArrayOutputStream out, int value) {
    while ((value & ~0x7f) != 0) {
      out.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }
}
