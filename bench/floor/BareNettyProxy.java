import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * bench/floor: the least a Netty HTTP/1.1 reverse proxy does (not Portico): one event loop, one
 * backend, keep-alive on both sides, a LIFO pool of idle backend connections, messages passed
 * through as Netty's codecs decode them, X-Forwarded-For added, Connection dropped. No routing,
 * no error handling beyond closing. What Portico's request path could cost on bare Netty.
 *
 * <pre>java -cp target/portico.jar bench/floor/BareNettyProxy.java LISTEN_PORT BACKEND_PORT</pre>
 */
public class BareNettyProxy {

  static int backendPort;
  /** Idle backend connections; one event loop, so no locking. */
  static final ArrayDeque<Channel> IDLE = new ArrayDeque<>();
  static Bootstrap backends;

  public static void main(String[] args) throws Exception {
    backendPort = Integer.parseInt(args[1]);
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    backends = new Bootstrap().group(loop).channel(EpollSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpClientCodec(), new BackendHandler());
          }
        });
    new ServerBootstrap().group(loop).channel(EpollServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new ClientHandler());
          }
        }).bind("127.0.0.1", Integer.parseInt(args[0])).sync();
    System.out.println("ready");
  }

  /** A client connection: forwards each request's parts to a backend connection. */
  static final class ClientHandler extends ChannelInboundHandlerAdapter {
    Channel backend;
    /** Parts that arrived while a new backend connection was being made. */
    List<Object> pending;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpMessage request) {
        request.headers().set("x-forwarded-for", "127.0.0.1");
        request.headers().remove(HttpHeaderNames.CONNECTION);
        Channel idle = IDLE.pollLast();
        if (idle != null && idle.isActive()) {
          attach(ctx.channel(), idle);
        } else {
          pending = new ArrayList<>();
          backends.connect("127.0.0.1", backendPort).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
              pending.forEach(ReferenceCountUtil::release);
              ctx.close();
              return;
            }
            List<Object> parts = pending;
            pending = null;
            attach(ctx.channel(), f.channel());
            parts.forEach(this::forward);
          });
        }
      }
      if (pending != null) {
        pending.add(msg);
      } else {
        forward(msg);
      }
    }

    private void forward(Object msg) {
      if (msg instanceof LastHttpContent) {
        backend.writeAndFlush(msg);
      } else {
        backend.write(msg);
      }
    }

    private void attach(Channel client, Channel chosen) {
      backend = chosen;
      chosen.pipeline().get(BackendHandler.class).client = client;
    }
  }

  /** A backend connection: relays the answer, then goes back to the pool. */
  static final class BackendHandler extends ChannelInboundHandlerAdapter {
    Channel client;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpMessage response) {
        response.headers().remove(HttpHeaderNames.CONNECTION);
      }
      if (msg instanceof LastHttpContent) {
        Channel answered = client;
        client = null;
        answered.pipeline().get(ClientHandler.class).backend = null;
        IDLE.addLast(ctx.channel());
        answered.writeAndFlush(msg);
      } else if (msg instanceof HttpContent || msg instanceof HttpMessage) {
        client.write(msg);
      }
    }
  }
}
