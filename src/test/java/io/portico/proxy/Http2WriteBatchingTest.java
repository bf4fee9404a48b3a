package io.portico.proxy;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.impl.ConnectionBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Answers written to one HTTP/2 connection in the same turn of the event loop, outside a read
 * of that connection (as a proxy writes them, while reading its upstreams), reach the socket in
 * one flush; every answer arrives intact. Counted by a handler at the head of the server's
 * pipeline, next to the socket, over real h2c connections.
 */
class Http2WriteBatchingTest {

  private static final int STREAMS = 16;

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void answersOfOneTurnLeaveInOneFlush() throws Exception {
    assertThat(flushesForAnswersOfOneTurn(Http2WriteBatching::install)).isEqualTo(1);
  }

  @Test
  void withoutBatchingEveryAnswerIsFlushedOnItsOwn() throws Exception {
    // The reference: what Vert.x does alone, so the test above can tell the two apart.
    assertThat(flushesForAnswersOfOneTurn(connection -> { }))
        .isGreaterThanOrEqualTo(STREAMS);
  }

  @Test
  void installsOnHttp2ConnectionsOnlyAndOnce() throws Exception {
    List<String> seen = new ArrayList<>();
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
        .connectionHandler(connection -> {
          Http2WriteBatching.install(connection);
          Http2WriteBatching.install(connection);
          var pipeline = ((ConnectionBase) connection).channel().pipeline();
          String protocol = pipeline.get(Http2ConnectionHandler.class) != null ? "h2" : "h1";
          seen.add(protocol + " " + pipeline.names().stream()
              .filter(Http2WriteBatching.NAME::equals).count());
        })
        .requestHandler(request -> request.response().end("ok"));
    int port = await(server.listen(0)).actualPort();
    for (HttpVersion version : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_2)) {
      HttpClient client = vertx.createHttpClient(new HttpClientOptions()
          .setProtocolVersion(version).setHttp2ClearTextUpgrade(false));
      assertThat(getThenClose(client, port)).isEqualTo("ok");
    }
    assertThat(seen).containsExactly("h1 0", "h2 1");
  }

  @Test
  void upstreamClientsBatchTheirHttp2Connections() throws Exception {
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
        .requestHandler(request -> request.response().end("ok"));
    int port = await(server.listen(0)).actualPort();
    List<String> seen = new ArrayList<>();
    for (HttpVersion version : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_2)) {
      HttpClient client = vertx.httpClientBuilder()
          .with(new HttpClientOptions().setProtocolVersion(version)
              .setHttp2ClearTextUpgrade(false))
          .withConnectHandler(connection -> {
            Http2WriteBatching.install(connection);
            var pipeline = ((ConnectionBase) connection).channel().pipeline();
            seen.add((pipeline.get(Http2ConnectionHandler.class) != null ? "h2 " : "h1 ")
                + (pipeline.get(Http2WriteBatching.NAME) != null));
          })
          .build();
      assertThat(getThenClose(client, port)).isEqualTo("ok");
    }
    assertThat(seen).containsExactly("h1 false", "h2 true");
  }

  /** Returns the body of a GET of "/" on {@code port}, then closes {@code client}. */
  private static String getThenClose(HttpClient client, int port) throws Exception {
    String body = await(client.request(HttpMethod.GET, port, "127.0.0.1", "/")
        .compose(request -> request.send())
        .compose(HttpClientResponse::body)).toString();
    await(client.close());
    return body;
  }

  /**
   * Sends {@link #STREAMS} requests on one h2c connection; the server holds them and answers all
   * from one timer callback. Returns how many flushes reached the socket for those answers.
   */
  private int flushesForAnswersOfOneTurn(Consumer<HttpConnection> batching) throws Exception {
    AtomicInteger flushes = new AtomicInteger();
    List<HttpServerRequest> held = new ArrayList<>();
    Promise<Integer> counted = Promise.promise();
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
        .connectionHandler(connection -> {
          ((ConnectionBase) connection).channel().pipeline()
              .addFirst("count-flushes", new ChannelOutboundHandlerAdapter() {
                @Override
                public void flush(ChannelHandlerContext context) {
                  flushes.incrementAndGet();
                  context.flush();
                }
              });
          batching.accept(connection);
        })
        .requestHandler(request -> {
          held.add(request);
          if (held.size() == STREAMS) {
            vertx.setTimer(20, id -> {
              int before = flushes.get();
              for (HttpServerRequest each : held) {
                each.response().end("answer " + each.path());
              }
              // Runs after the tasks the writes scheduled, the batched flush among them.
              vertx.runOnContext(done -> counted.complete(flushes.get() - before));
            });
          }
        });
    int port = await(server.listen(0)).actualPort();
    HttpClient client = vertx.createHttpClient(new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
            .setHttp2MultiplexingLimit(STREAMS),
        new PoolOptions().setHttp2MaxSize(1));
    List<Future<String>> answers = new ArrayList<>();
    for (int i = 0; i < STREAMS; i++) {
      answers.add(client.request(HttpMethod.GET, port, "127.0.0.1", "/" + i)
          .compose(request -> request.send())
          .compose(HttpClientResponse::body)
          .map(Object::toString));
    }
    await(Future.all(answers));
    for (int i = 0; i < STREAMS; i++) {
      assertThat(answers.get(i).result()).isEqualTo("answer /" + i);
    }
    int result = await(counted.future());
    await(client.close());
    await(server.close());
    return result;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
