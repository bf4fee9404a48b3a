import io.netty.bootstrap.Bootstrap;
import io.netty.channel.*;
import io.netty.channel.epoll.*;
import io.netty.handler.codec.http.*;
import io.vertx.core.*;
import io.vertx.core.http.*;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.PemKeyCertOptions;
import java.util.ArrayDeque;

/**
 * bench/floor: Vert.x's HttpServer in front, a bare Netty HTTP/1.1 client behind (not Portico):
 * a LIFO pool of backend connections on the server's own event loop, the answer's parts written
 * to the Vert.x response as they are decoded (released once written). Against BareVertxProxy it
 * shows what Vert.x's HttpClient costs per request; against BareNettyProxy what its HttpServer
 * does. Body-less requests only (enough for the bench's GETs).
 *
 * With CERT and KEY the server speaks TLS (OpenSSL, ALPN h2 and http/1.1), so that against
 * BareNettyH2Proxy it shows what Vert.x's HTTP/2 server costs per request.
 *
 * <pre>java -cp target/portico.jar bench/floor/VertxServerNettyClientProxy.java LISTEN_PORT BACKEND_PORT [CERT KEY]</pre>
 */
public class VertxServerNettyClientProxy {
  static int backendPort;
  static final ArrayDeque<Channel> idle = new ArrayDeque<>();
  static Bootstrap client;

  public static void main(String[] args) {
    backendPort = Integer.parseInt(args[1]);
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
    ContextInternal ctx = (ContextInternal) vertx.getOrCreateContext();
    ctx.runOnContext(v -> {
      client = new Bootstrap().group(ctx.nettyEventLoop()).channel(EpollSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<Channel>() {
            protected void initChannel(Channel ch) { ch.pipeline().addLast(new HttpClientCodec(), new BackendHandler()); }
          });
      HttpServerOptions options = new HttpServerOptions();
      if (args.length > 3) {
        options.setSsl(true).setUseAlpn(true).setSslEngineOptions(new OpenSSLEngineOptions())
            .setKeyCertOptions(new PemKeyCertOptions().setCertPath(args[2]).setKeyPath(args[3]));
      }
      vertx.createHttpServer(options).requestHandler(VertxServerNettyClientProxy::handle)
          .connectionHandler(VertxServerNettyClientProxy::batchHttp2Writes)
          .listen(Integer.parseInt(args[0]), "127.0.0.1").onSuccess(s -> System.out.println("ready"));
    });
  }

  /**
   * As Portico does (Http2WriteBatching): an HTTP/2 connection's flushes wait until the event
   * loop has read every ready socket, so the answers of one turn leave in one TLS record.
   */
  static void batchHttp2Writes(HttpConnection connection) {
    ChannelPipeline pipeline = ((ConnectionBase) connection).channel().pipeline();
    Http2ConnectionHandler http2 = pipeline.get(Http2ConnectionHandler.class);
    if (http2 != null) {
      pipeline.addBefore(pipeline.context(http2).name(), "batching", new FlushConsolidationHandler(
          FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    }
  }

  static void handle(HttpServerRequest req) {
    DefaultFullHttpRequest out = new DefaultFullHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
        io.netty.handler.codec.http.HttpMethod.valueOf(req.method().name()), req.uri());
    req.headers().forEach(e -> out.headers().add(e.getKey(), e.getValue()));
    out.headers().set(HttpHeaderNames.HOST, req.authority().toString());
    out.headers().set("x-forwarded-for", req.remoteAddress().hostAddress());
    out.headers().remove(HttpHeaderNames.CONNECTION);
    Channel b = idle.pollLast();
    if (b != null && b.isActive()) { send(b, req, out); }
    else client.connect("127.0.0.1", backendPort).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) { req.response().setStatusCode(502).end(); return; }
      send(f.channel(), req, out);
    });
  }

  static void send(Channel b, HttpServerRequest req, FullHttpRequest out) {
    b.pipeline().get(BackendHandler.class).front = req.response();
    b.writeAndFlush(out);
  }

  static final class BackendHandler extends ChannelInboundHandlerAdapter {
    HttpServerResponse front;
    @Override public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpResponse r) {
        front.setStatusCode(r.status().code());
        r.headers().remove(HttpHeaderNames.CONNECTION);
        r.headers().remove(HttpHeaderNames.KEEP_ALIVE);
        for (var e : r.headers()) front.headers().add(e.getKey(), e.getValue());
      }
      if (msg instanceof HttpContent c) {
        BufferInternal body = BufferInternal.buffer(c.content());
        if (msg instanceof LastHttpContent) {
          HttpServerResponse f = front; front = null;
          idle.addLast(ctx.channel());
          f.end(body).onComplete(x -> c.release());
        } else {
          front.write(body).onComplete(x -> c.release());
        }
      }
    }
  }
}
