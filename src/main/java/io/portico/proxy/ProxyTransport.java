package io.portico.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.portico.proxy.upstream.RelayBuffers;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.spi.transport.Transport;

import java.net.SocketAddress;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * The Vert.x transport (epoll where available, else NIO) with the two channel settings Portico
 * needs and Vert.x has no option for:
 * <ul>
 *   <li>every connection a cleartext HTTP server accepts starts with a {@link FirstHeadDeadline},
 *       so that its first request head is timed like every later one (Vert.x offers no hook on a
 *       connection before its first head is complete);
 *   <li>upstream HTTP connections (clients named {@link ProxyOptions#UPSTREAM_CLIENT_NAME})
 *       read into {@link RelayBuffers}, so that answers are relayed without copies.
 * </ul>
 * Everything else is the wrapped transport's.
 */
public final class ProxyTransport implements Transport {

  private final Transport transport;
  private final long requestHeadersTimeoutMillis;

  /**
   * @param transport the transport Vert.x would use
   * @param requestHeadersTimeoutMillis how long a first request head may take
   */
  public ProxyTransport(Transport transport, long requestHeadersTimeoutMillis) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.requestHeadersTimeoutMillis = requestHeadersTimeoutMillis;
  }

  /** The native transport when it is available, else NIO, wrapped. */
  public static io.vertx.core.transport.Transport preferNative(long requestHeadersTimeoutMillis) {
    io.vertx.core.transport.Transport chosen = io.vertx.core.transport.Transport.nativeTransport();
    if (chosen == null || !chosen.available()) {
      chosen = io.vertx.core.transport.Transport.NIO;
    }
    io.vertx.core.transport.Transport base = chosen;
    Transport wrapped = new ProxyTransport(base.implementation(), requestHeadersTimeoutMillis);
    return new io.vertx.core.transport.Transport() {
      @Override
      public String name() {
        return base.name();
      }

      @Override
      public boolean available() {
        return base.available();
      }

      @Override
      public Throwable unavailabilityCause() {
        return base.unavailabilityCause();
      }

      @Override
      public Transport implementation() {
        return wrapped;
      }
    };
  }

  @Override
  public void configure(NetServerOptions options, boolean domainSocket,
      ServerBootstrap bootstrap) {
    transport.configure(options, domainSocket, bootstrap);
    if (!(options instanceof HttpServerOptions) || options.isSsl()
        || requestHeadersTimeoutMillis <= 0) {
      return; // TLS ports: Vert.x builds the connection after the handshake, already timed.
    }
    ChannelHandler vertx = bootstrap.config().childHandler();
    long timeout = requestHeadersTimeoutMillis;
    bootstrap.childHandler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel channel) {
        channel.pipeline().addLast(FirstHeadDeadline.NAME, new FirstHeadDeadline(timeout));
        channel.pipeline().addLast(vertx);
      }
    });
  }

  // ---- the wrapped transport's ----

  @Override
  public boolean supportsDomainSockets() {
    return transport.supportsDomainSockets();
  }

  @Override
  public boolean supportFileRegion() {
    return transport.supportFileRegion();
  }

  @Override
  public boolean isAvailable() {
    return transport.isAvailable();
  }

  @Override
  public Throwable unavailabilityCause() {
    return transport.unavailabilityCause();
  }

  @Override
  public SocketAddress convert(io.vertx.core.net.SocketAddress address) {
    return transport.convert(address);
  }

  @Override
  public io.vertx.core.net.SocketAddress convert(SocketAddress address) {
    return transport.convert(address);
  }

  @Override
  public IoHandlerFactory ioHandlerFactory() {
    return transport.ioHandlerFactory();
  }

  @Override
  public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory,
      int ioRatio) {
    return transport.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
  }

  @Override
  public DatagramChannel datagramChannel() {
    return transport.datagramChannel();
  }

  @Override
  public DatagramChannel datagramChannel(InternetProtocolFamily family) {
    return transport.datagramChannel(family);
  }

  @Override
  public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
    return transport.channelFactory(domainSocket);
  }

  @Override
  public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
    return transport.serverChannelFactory(domainSocket);
  }

  @Override
  public void configure(DatagramChannel channel, DatagramSocketOptions options) {
    transport.configure(channel, options);
  }

  @Override
  public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket,
      Bootstrap bootstrap) {
    transport.configure(options, connectTimeout, domainSocket, bootstrap);
    if (RelayBuffers.ALLOCATOR != null
        && ProxyOptions.UPSTREAM_CLIENT_NAME.equals(options.getMetricsName())) {
      bootstrap.option(ChannelOption.ALLOCATOR, RelayBuffers.ALLOCATOR);
    }
  }
}
