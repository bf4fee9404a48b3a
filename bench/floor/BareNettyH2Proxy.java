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
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

import java.io.File;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * bench/floor: the least a Netty HTTP/2-over-TLS reverse proxy does (not Portico): OpenSSL
 * (BoringSSL), ALPN h2 only, Netty's {@code Http2ConnectionHandler} with a frame listener of its
 * own (as Vert.x's HTTP/2 server has), each stream's request sent to one HTTP/1.1 backend over a
 * LIFO pool of keep-alive connections (Netty's {@code HttpClientCodec}), the answer's head and
 * body written to the stream as they are decoded, X-Forwarded-For added. Body-less requests
 * only, no routing, no error handling beyond resetting the stream. What Portico's HTTP/2 path
 * could cost on bare Netty, against {@code VertxServerNettyClientProxy} with TLS (Vert.x's
 * HTTP/2 server in front of the same client).
 *
 * <pre>java -cp target/portico.jar bench/floor/BareNettyH2Proxy.java LISTEN_PORT BACKEND_PORT CERT KEY</pre>
 */
public class BareNettyH2Proxy {

  static int backendPort;
  /** Idle backend connections; one event loop, so no locking. */
  static final ArrayDeque<Channel> IDLE = new ArrayDeque<>();
  static Bootstrap backends;

  public static void main(String[] args) throws Exception {
    backendPort = Integer.parseInt(args[1]);
    SslContext tls = SslContextBuilder.forServer(new File(args[2]), new File(args[3]))
        .sslProvider(SslProvider.OPENSSL)
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2))
        .build();
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
            ch.pipeline().addLast(tls.newHandler(ch.alloc()), new Builder().create());
          }
        }).bind("127.0.0.1", Integer.parseInt(args[0])).sync();
    System.out.println("ready");
  }

  static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<ClientHandler, Builder> {
    ClientHandler create() {
      return build();
    }

    @Override
    protected ClientHandler build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
        Http2Settings settings) {
      ClientHandler handler = new ClientHandler(decoder, encoder, settings);
      frameListener(handler.listener);
      return handler;
    }
  }

  /** A client connection: each stream's request goes to a backend connection of the pool. */
  static final class ClientHandler extends Http2ConnectionHandler {
    final Http2FrameAdapter listener = new Http2FrameAdapter() {
      @Override
      public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
          int padding, boolean endOfStream) {
        request(ctx, streamId, headers);
      }

      @Override
      public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
          int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream) {
        request(ctx, streamId, headers);
      }
    };

    ClientHandler(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings) {
      super(decoder, encoder, settings);
    }

    void request(ChannelHandlerContext ctx, int streamId, Http2Headers headers) {
      DefaultFullHttpRequest out = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
          HttpMethod.valueOf(headers.method().toString()), headers.path().toString());
      for (Map.Entry<CharSequence, CharSequence> header : headers) {
        if (header.getKey().charAt(0) != ':') {
          out.headers().add(header.getKey(), header.getValue());
        }
      }
      out.headers().set(HttpHeaderNames.HOST, headers.authority());
      out.headers().set("x-forwarded-for", "127.0.0.1");
      Channel idle = IDLE.pollLast();
      if (idle != null && idle.isActive()) {
        send(idle, ctx, streamId, out);
      } else {
        backends.connect("127.0.0.1", backendPort).addListener((ChannelFutureListener) f -> {
          if (f.isSuccess()) {
            send(f.channel(), ctx, streamId, out);
          } else {
            out.release();
            encoder().writeRstStream(ctx, streamId, 2, ctx.newPromise());
            ctx.channel().flush();
          }
        });
      }
    }

    /** Whether a flush is queued behind this event-loop turn's reads. */
    boolean flushQueued;

    /**
     * Flushes once the event loop has handled what it read in this turn: answers that other
     * backend connections decode in the same turn go out in the same TLS records and write.
     */
    void flushSoon(ChannelHandlerContext ctx) {
      if (!flushQueued) {
        flushQueued = true;
        ctx.executor().execute(() -> {
          flushQueued = false;
          ctx.channel().flush();
        });
      }
    }

    void send(Channel backend, ChannelHandlerContext client, int streamId, DefaultFullHttpRequest out) {
      BackendHandler handler = backend.pipeline().get(BackendHandler.class);
      handler.client = client;
      handler.frontend = this;
      handler.streamId = streamId;
      backend.writeAndFlush(out);
    }
  }

  /** A backend connection: relays the answer to its stream, then goes back to the pool. */
  static final class BackendHandler extends ChannelInboundHandlerAdapter {
    ChannelHandlerContext client;
    ClientHandler frontend;
    int streamId;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpResponse response) {
        Http2Headers headers = new DefaultHttp2Headers().status(response.status().codeAsText());
        response.headers().remove(HttpHeaderNames.CONNECTION);
        response.headers().remove(HttpHeaderNames.KEEP_ALIVE);
        response.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        var it = response.headers().iteratorCharSequence();
        while (it.hasNext()) {
          Map.Entry<CharSequence, CharSequence> header = it.next();
          headers.add(header.getKey().toString().toLowerCase(), header.getValue());
        }
        frontend.encoder().writeHeaders(client, streamId, headers, 0, false, client.newPromise());
      }
      if (msg instanceof HttpContent content) {
        boolean last = msg instanceof LastHttpContent;
        ByteBuf data = content.content();
        ChannelHandlerContext answered = client;
        if (last) {
          client = null;
          IDLE.addLast(ctx.channel());
        }
        if (data.isReadable() || last) {
          frontend.encoder().writeData(answered, streamId, data, 0, last, answered.newPromise());
        } else {
          data.release();
        }
        if (last) {
          frontend.flushSoon(answered);
        }
      }
    }
  }
}
