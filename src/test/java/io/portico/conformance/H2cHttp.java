package io.portico.conformance;

import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends one request as cleartext HTTP/2 with prior knowledge (no Upgrade), which the JDK client
 * cannot do: a Vert.x client on a new connection, driven entirely on a Vert.x context, with the
 * host as {@code :authority}.
 */
final class H2cHttp {

  private H2cHttp() {
  }

  static RawHttp.Response exchange(Vertx vertx, InetSocketAddress address, RawHttp.Request request,
      Duration timeout) throws IOException {
    Promise<RawHttp.Response> result = Promise.promise();
    vertx.runOnContext(ignored -> {
      HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2)
          .setHttp2ClearTextUpgrade(false)
          .setConnectTimeout((int) timeout.toMillis()), new PoolOptions());
      RequestOptions options = new RequestOptions()
          .setServer(SocketAddress.inetSocketAddress(address.getPort(),
              address.getAddress().getHostAddress()))
          .setMethod(HttpMethod.valueOf(request.method()))
          .setURI(request.target())
          .setIdleTimeout(timeout.toMillis());
      for (Map.Entry<String, String> header : request.headers()) {
        options.addHeader(header.getKey(), header.getValue());
      }
      client.request(options)
          .compose(clientRequest -> {
            HostAndPort authority = HostAndPort.parseAuthority(request.host(), -1);
            clientRequest.authority(authority != null ? authority
                : HostAndPort.create(request.host(), -1));
            return request.body() == null ? clientRequest.send()
                : clientRequest.send(Buffer.buffer(request.body()));
          })
          .compose(response -> response.body().map(body -> {
            List<Map.Entry<String, String>> headers = new ArrayList<>();
            response.headers().forEach(h -> headers.add(Map.entry(h.getKey(), h.getValue())));
            return new RawHttp.Response(response.statusCode(), headers, body.toString());
          }))
          .onComplete(done -> {
            client.close();
            result.handle(done);
          });
    });
    try {
      return result.future().toCompletionStage().toCompletableFuture()
          .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new IOException("h2c request failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("h2c request timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }
}
