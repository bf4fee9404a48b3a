package io.portico.conformance;

import io.vertx.core.Future;
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
import io.vertx.core.net.TrustOptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.TrustManager;

/**
 * Sends one request as HTTP/2 on a new connection, which the JDK client cannot do the way the
 * cases need: cleartext with prior knowledge (no Upgrade), or over TLS negotiated with ALPN h2
 * with a TLS server name that may differ from the {@code :authority}. A Vert.x client driven
 * entirely on a Vert.x context, with the host as {@code :authority}.
 */
final class H2Http {

  /**
   * TLS for one exchange: the trust to verify the server's chain with, and the server name sent
   * (null: none). As in {@link RawHttp}, the host name is not checked against the certificate
   * (the JDK refuses wildcards such as {@code *.org} that the cases' certificates use).
   */
  record Tls(TrustManager trust, String sni) {}

  private H2Http() {
  }

  /** Sends {@code request} as h2 over TLS when {@code tls} is given, else as h2c. */
  static RawHttp.Response exchange(Vertx vertx, InetSocketAddress address, RawHttp.Request request,
      Duration timeout, Tls tls) throws IOException {
    Promise<RawHttp.Response> result = Promise.promise();
    vertx.runOnContext(ignored -> {
      HttpClientOptions clientOptions = new HttpClientOptions()
          .setProtocolVersion(HttpVersion.HTTP_2)
          .setConnectTimeout((int) timeout.toMillis());
      if (tls == null) {
        clientOptions.setHttp2ClearTextUpgrade(false);
      } else {
        clientOptions.setSsl(true).setUseAlpn(true).setVerifyHost(false)
            .setForceSni(tls.sni() != null)
            .setTrustOptions(TrustOptions.wrap(tls.trust()));
      }
      HttpClientAgent client = vertx.createHttpClient(clientOptions, new PoolOptions());
      RequestOptions options = new RequestOptions()
          .setServer(SocketAddress.inetSocketAddress(address.getPort(),
              address.getAddress().getHostAddress()))
          .setMethod(HttpMethod.valueOf(request.method()))
          .setURI(request.target())
          .setIdleTimeout(timeout.toMillis());
      if (tls != null && tls.sni() != null) {
        // The client takes the TLS server name from the request host; the connection still
        // goes to the server address and the :authority is set below.
        options.setHost(tls.sni()).setPort(address.getPort());
      }
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
          .compose(response -> response.version() != HttpVersion.HTTP_2
              // Vert.x falls back to HTTP/1.1 when ALPN does not select h2; the case needs h2.
              ? Future.<RawHttp.Response>failedFuture("the server negotiated "
                  + response.version() + ", not h2")
              : response.body().map(body -> {
                List<Map.Entry<String, String>> headers = new ArrayList<>();
                response.headers().forEach(h ->
                    headers.add(Map.entry(h.getKey(), h.getValue())));
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
      throw new IOException((tls == null ? "h2c" : "h2") + " request failed: " + e.getCause(),
          e.getCause());
    } catch (TimeoutException e) {
      throw new IOException((tls == null ? "h2c" : "h2") + " request timed out");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }
}
