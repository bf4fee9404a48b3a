package io.portico.cli;

import io.portico.Portico;
import io.portico.ir.HttpPort;
import io.portico.ir.Listener;
import io.portico.proxy.ProxyOptions;
import io.portico.proxy.tls.TlsEngines;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Sends one request to each listener port of a running gateway, so that a training run
 * ({@code --exit-when-ready} under {@code -XX:ArchiveClassesAtExit}) loads the classes of the
 * request path, TLS included, and the class-data archive holds them: a gateway started with the
 * archive is ready in about a third of the time (measured in bench/, see README). A TLS port also
 * gets an HTTP/2 request (ALPN h2), so the archive holds both protocols' classes; the quickstart
 * has an HTTPS listener for this. Answers are not checked: a 404 loads the same classes.
 */
final class TrainingRun {

  private TrainingRun() {
  }

  static void exercise(Portico portico, ProxyOptions proxy) {
    // The gateway's own TLS engine: with the JDK's, the archive would hold some 200 JSSE
    // classes the gateway never loads, resident for nothing in every gateway's memory.
    HttpClientOptions trustingAll = new HttpClientOptions()
        .setSslEngineOptions(TlsEngines.engine()).setTrustAll(true).setVerifyHost(false);
    HttpClient client = portico.vertx().createHttpClient(trustingAll);
    HttpClient h2 = portico.vertx().createHttpClient(new HttpClientOptions(trustingAll)
        .setUseAlpn(true).setProtocolVersion(HttpVersion.HTTP_2));
    List<Future<?>> requests = new ArrayList<>();
    for (HttpPort port : portico.state().table().value().httpPorts()) {
      String host = port.address().isEmpty()
          ? (proxy.bindHost().equals("0.0.0.0") ? "127.0.0.1" : proxy.bindHost()) : port.address();
      Listener listener = port.listeners().isEmpty() ? null : port.listeners().get(0);
      String hostname = listener == null || listener.hostname() == null ? "localhost"
          : listener.hostname().replace("*", "training");
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setHost(host).setPort(proxy.bindPort(port.port())).setSsl(port.tls())
          .setURI("/").putHeader("host", hostname).setTimeout(5_000);
      requests.add(client.request(options).compose(request -> request.send())
          .compose(response -> response.body()));
      if (port.tls()) {
        requests.add(h2.request(new RequestOptions(options)).compose(request -> request.send())
            .compose(response -> response.body()));
      }
    }
    try {
      Future.join(requests).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // A request that failed loaded its classes all the same.
    }
  }
}
