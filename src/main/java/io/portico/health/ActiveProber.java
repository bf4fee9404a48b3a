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
  private final NetClient tcp;

  ActiveProber(HttpClient http, NetClient tcp) {
    this.http = http;
    this.tcp = tcp;
  }

  Future<String> probe(Endpoint endpoint, HealthCheck.Active check) {
    return switch (check.type()) {
      case HTTP -> http(endpoint, check);
      case TCP -> tcp(endpoint, check);
      case GRPC -> Future.failedFuture("gRPC health checks are not supported");
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
    return result.timeout(check.timeoutMillis(), TimeUnit.MILLISECONDS)
        .recover(e -> {
          HttpClientRequest request = sent.get();
          if (request != null) {
            request.reset();
          }
          return Future.failedFuture(describe(e, check));
        });
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
