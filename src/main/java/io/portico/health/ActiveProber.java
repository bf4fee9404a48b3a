package io.portico.health;

import io.portico.ir.Endpoint;
import io.portico.ir.HealthCheck;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends one active health probe (HTTP request or TCP connect) to an endpoint. The future
 * succeeds with a short description when the endpoint is healthy and fails with why it is not,
 * within the check's timeout.
 */
final class ActiveProber {

  private final HttpClient http;
  private final HttpClient h2c;
  private final NetClient tcp;

  /**
   * @param http an HTTP/1.1 client for HTTP probes
   * @param h2c a cleartext HTTP/2 (prior knowledge) client for gRPC probes
   * @param tcp a client for TCP probes
   */
  ActiveProber(HttpClient http, HttpClient h2c, NetClient tcp) {
    this.http = http;
    this.h2c = h2c;
    this.tcp = tcp;
  }

  Future<String> probe(Endpoint endpoint, HealthCheck.Active check) {
    return switch (check.type()) {
      case HTTP -> http(endpoint, check);
      case TCP -> tcp(endpoint, check);
      case GRPC -> grpc(endpoint, check);
    };
  }

  private Future<String> http(Endpoint endpoint, HealthCheck.Active check) {
    HealthCheck.HttpProbe probe = check.http();
    int timeout = (int) Math.min(Integer.MAX_VALUE, check.timeoutMillis());
    RequestOptions options = new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()))
        .setHost(probe.hostname().isEmpty() ? endpoint.host() : probe.hostname())
        .setPort(endpoint.port())
        .setMethod(HttpMethod.valueOf(probe.method()))
        .setURI(probe.path())
        .setConnectTimeout(timeout)
        .setIdleTimeout(timeout)
        .putHeader("user-agent", "portico-health-check");
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    Future<String> result = http.request(options)
        .compose(request -> {
          sent.set(request);
          return request.send();
        })
        .compose(response -> response.body().compose(body -> {
          int status = response.statusCode();
          if (!probe.expectedStatuses().contains(status)) {
            return Future.failedFuture(probe.method() + " " + probe.path() + " answered "
                + status + " (expected " + probe.expectedStatuses() + ")");
          }
          if (probe.expectedResponse() != null
              && !contains(body, probe.expectedResponse().bytes())) {
            return Future.failedFuture(probe.method() + " " + probe.path() + " answered "
                + status + " without the expected response");
          }
          return Future.succeededFuture(probe.method() + " " + probe.path() + " answered "
              + status);
        }));
    return limited(result, sent, check);
  }

  /**
   * Calls {@code grpc.health.v1.Health/Check} for the check's service; healthy when the answer
   * has grpc-status 0 and status SERVING (1). Protobuf is written and read by hand: the request
   * has one string field (1: service) and the answer one enum field (1: status).
   */
  private Future<String> grpc(Endpoint endpoint, HealthCheck.Active check) {
    int timeout = (int) Math.min(Integer.MAX_VALUE, check.timeoutMillis());
    byte[] service = check.grpcService().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Buffer message = Buffer.buffer();
    if (service.length > 0) {
      message.appendByte((byte) 0x0a);
      writeVarint(message, service.length);
      message.appendBytes(service);
    }
    Buffer frame = Buffer.buffer().appendByte((byte) 0).appendInt(message.length())
        .appendBuffer(message);
    RequestOptions options = new RequestOptions()
        .setServer(SocketAddress.inetSocketAddress(endpoint.port(), endpoint.host()))
        .setHost(endpoint.host())
        .setPort(endpoint.port())
        .setMethod(HttpMethod.POST)
        .setURI("/grpc.health.v1.Health/Check")
        .setConnectTimeout(timeout)
        .setIdleTimeout(timeout)
        .putHeader("content-type", "application/grpc")
        .putHeader("te", "trailers");
    AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
    Future<String> result = h2c.request(options)
        .compose(request -> {
          sent.set(request);
          return request.send(frame);
        })
        .compose(response -> response.body().compose(body -> {
          String grpcStatus = response.getTrailer("grpc-status");
          if (grpcStatus == null) {
            grpcStatus = response.getHeader("grpc-status");
          }
          if (response.statusCode() != 200 || !"0".equals(grpcStatus)) {
            return Future.failedFuture("gRPC health check answered HTTP "
                + response.statusCode() + ", grpc-status " + grpcStatus);
          }
          int status = servingStatus(body);
          return status == 1 ? Future.succeededFuture("gRPC health check: SERVING")
              : Future.failedFuture("gRPC health check: status " + status + " (not SERVING)");
        }));
    return limited(result, sent, check);
  }

  /**
   * Bounds a probe by the check's timeout; a probe that fails or runs out of time resets its
   * request (if one was sent), so no connection is left waiting for a late answer.
   */
  private static Future<String> limited(Future<String> result,
      AtomicReference<HttpClientRequest> sent, HealthCheck.Active check) {
    return result.timeout(check.timeoutMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> {
          HttpClientRequest request = sent.get();
          if (request != null) {
            request.reset();
          }
          return Future.failedFuture(describe(e, check));
        });
  }

  private static void writeVarint(Buffer buffer, int value) {
    while ((value & ~0x7f) != 0) {
      buffer.appendByte((byte) ((value & 0x7f) | 0x80));
      value >>>= 7;
    }
    buffer.appendByte((byte) value);
  }

  /** Returns field 1 of the first HealthCheckResponse in a gRPC body, 0 (UNKNOWN) if absent. */
  static int servingStatus(Buffer body) {
    if (body.length() < 5) {
      return 0;
    }
    int end = Math.min(body.length(), 5 + body.getInt(1));
    int position = 5;
    while (position < end) {
      int tag = body.getUnsignedByte(position++);
      int wireType = tag & 7;
      long value = 0;
      if (wireType == 0) {
        int shift = 0;
        int b;
        do {
          if (position >= end) {
            return 0;
          }
          b = body.getUnsignedByte(position++);
          value |= (long) (b & 0x7f) << shift;
          shift += 7;
        } while ((b & 0x80) != 0 && shift < 64);
        if (tag >> 3 == 1) {
          return (int) value;
        }
      } else if (wireType == 2) {
        if (position >= end) {
          return 0;
        }
        position += 1 + body.getUnsignedByte(position);
      } else {
        return 0;
      }
    }
    return 0;
  }

  private Future<String> tcp(Endpoint endpoint, HealthCheck.Active check) {
    HealthCheck.TcpProbe probe = check.tcp();
    byte[] expected = probe.receive() == null ? null : probe.receive().bytes();
    AtomicReference<NetSocket> opened = new AtomicReference<>();
    Future<String> result = tcp.connect(new ConnectOptions().setHost(endpoint.host())
            .setPort(endpoint.port())
            .setTimeout((int) Math.min(Integer.MAX_VALUE, check.timeoutMillis())))
        .compose(socket -> {
          opened.set(socket);
          if (probe.send() != null) {
            socket.write(Buffer.buffer(probe.send().bytes()));
          }
          if (expected == null) {
            return Future.succeededFuture("connected");
          }
          Promise<String> received = Promise.promise();
          Buffer seen = Buffer.buffer();
          socket.handler(chunk -> {
            seen.appendBuffer(chunk);
            if (contains(seen, expected)) {
              received.tryComplete("received the expected response");
            }
          });
          socket.closeHandler(v -> received.tryFail("closed before the expected response"));
          socket.exceptionHandler(received::tryFail);
          return received.future();
        });
    return result.timeout(check.timeoutMillis(), TimeUnit.MILLISECONDS)
        .eventually(() -> {
          NetSocket socket = opened.get();
          return socket == null ? Future.succeededFuture() : socket.close().otherwiseEmpty();
        })
        .recover(e -> Future.failedFuture(describe(e, check)));
  }

  private static String describe(Throwable e, HealthCheck.Active check) {
    if (e instanceof java.util.concurrent.TimeoutException) {
      return "no answer within " + check.timeoutMillis() + " ms";
    }
    return String.valueOf(e.getMessage());
  }

  private static boolean contains(Buffer haystack, byte[] needle) {
    byte[] bytes = haystack.getBytes();
    outer:
    for (int i = 0; i + needle.length <= bytes.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (bytes[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
