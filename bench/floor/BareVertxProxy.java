import io.vertx.core.*;
import io.vertx.core.http.*;
import io.vertx.core.buffer.Buffer;

/**
 * bench/floor: the least a Vert.x reverse proxy does (not Portico): one event loop, one
 * backend, Vert.x's HttpServer and pooled HttpClient, headers copied both ways, X-Forwarded-For
 * added, bodies streamed with send(). What Portico's request path costs at least on Vert.x.
 *
 * <pre>java -cp target/portico.jar bench/floor/BareVertxProxy.java LISTEN_PORT BACKEND_PORT</pre>
 */
public class BareVertxProxy {
  public static void main(String[] args) {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(256));
    int backend = Integer.parseInt(args[1]);
    vertx.createHttpServer().requestHandler(req -> {
      req.pause();
      client.request(new RequestOptions().setHost("127.0.0.1").setPort(backend)
          .setMethod(req.method()).setURI(req.uri())).onComplete(ar -> {
        if (ar.failed()) { req.response().setStatusCode(502).end(); return; }
        HttpClientRequest up = ar.result();
        up.headers().setAll(req.headers());
        up.headers().set("x-forwarded-for", req.remoteAddress().hostAddress());
        up.send(req).onComplete(rar -> {
          if (rar.failed()) { req.response().setStatusCode(502).end(); return; }
          HttpClientResponse r = rar.result();
          HttpServerResponse resp = req.response();
          resp.setStatusCode(r.statusCode());
          resp.headers().setAll(r.headers());
          resp.headers().remove("connection");
          resp.send(r);
        });
      });
    }).listen(Integer.parseInt(args[0]), "127.0.0.1").onSuccess(s -> System.out.println("ready"));
  }
}
