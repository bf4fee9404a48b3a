import io.netty.bootstrap.Bootstrap;
import io.netty.channel.*;
import io.netty.channel.epoll.*;
import io.netty.handler.codec.http.*;
import io.vertx.core.*;
import io.vertx.core.http.*;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.ArrayDeque;

/**
 * bench/floor: Vert.x's HttpServer in front, a bare Netty HTTP/1.1 client behind (not Portico):
 * a LIFO pool of backend connections on the server's own event loop, the answer's parts written
 * to the Vert.x response as they are decoded (released once written). Against BareVertxProxy it
 * shows what Vert.x's HttpClient costs per request; against BareNettyProxy what its HttpServer
 * does. Body-less requests only (enough for the bench's GETs).
 *
 * <pre>java -cp target/portico.jar bench/floor/VertxServerNettyClientProxy.java LISTEN_PORT BACKEND_PORT</pre>
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
      vertx.createHttpServer().requestHandler(VertxServerNettyClientProxy::handle)
          .listen(Integer.parseInt(args[0]), "127.0.0.1").onSuccess(s -> System.out.println("ready"));
    });
  }

  static void handle(HttpServerRequest req) {
    DefaultFullHttpRequest out = new DefaultFullHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
        io.netty.handler.codec.http.HttpMethod.valueOf(req.method().name()), req.uri());
    req.headers().forEach(e -> out.headers().add(e.getKey(), e.getValue()));
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
