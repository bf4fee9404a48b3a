package io.portico.proxy.tcp;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.portico.ir.TlsCertificate;
import io.portico.proxy.tls.TlsEngines;
import io.portico.tls.PemCertificate;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import javax.net.ssl.SSLException;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.Map;

/**
 * Ends TLS on a connection whose ClientHello has already been read (to choose the listener by
 * its SNI name): a TLS handler is put in front of the connection's Vert.x handler and the bytes
 * read so far are replayed into it, so the handshake proceeds as if nothing had been read and
 * the socket then carries the decrypted stream both ways.
 *
 * <p>Uses Vert.x's internal {@link NetSocketInternal} to reach the Netty pipeline: Vert.x's own
 * {@code upgradeToSsl} cannot take bytes that were already read. TLS is the HTTPS listeners'
 * ({@link TlsEngines#serverContext}: OpenSSL, TLS 1.2 minimum, the same cipher suites, session
 * tickets). Contexts are kept per certificate for the current table; confined to one event
 * loop.
 */
final class TlsTerminator {

  private Map<TlsCertificate, SslContext> contexts = new HashMap<>();

  /** Keeps the contexts of the certificates still in use and forgets the others. */
  void retainOnly(java.util.Collection<TlsCertificate> inUse) {
    Map<TlsCertificate, SslContext> kept = new HashMap<>();
    for (TlsCertificate certificate : inUse) {
      SslContext context = contexts.get(certificate);
      if (context != null) {
        kept.put(certificate, context);
      }
    }
    contexts = kept;
  }

  /**
   * Starts the server side of TLS on {@code socket} with {@code certificate}, replaying
   * {@code received} (the ClientHello and anything after it). A failed handshake closes the
   * connection.
   *
   * @throws GeneralSecurityException when the certificate cannot be used
   */
  void terminate(NetSocket socket, TlsCertificate certificate, Buffer received)
      throws GeneralSecurityException {
    SslContext context = contexts.get(certificate);
    if (context == null) {
      context = context(certificate);
      contexts.put(certificate, context);
    }
    ChannelHandlerContext vertxHandler = ((NetSocketInternal) socket).channelHandlerContext();
    SslHandler tls = context.newHandler(vertxHandler.alloc());
    vertxHandler.pipeline().addBefore(vertxHandler.name(), "portico-tls-terminate", tls);
    // From the head of the pipeline, so the bytes pass the TLS handler like fresh ones.
    vertxHandler.pipeline().fireChannelRead(Unpooled.wrappedBuffer(received.getBytes()));
    vertxHandler.pipeline().fireChannelReadComplete();
  }

  private static SslContext context(TlsCertificate certificate)
      throws GeneralSecurityException {
    PemCertificate pem;
    try {
      pem = PemCertificate.parse(certificate.certificatePem(), certificate.keyPem());
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException(certificate.name() + ": " + e.getMessage(), e);
    }
    try {
      return TlsEngines.serverContext(pem.key(), pem.chain());
    } catch (SSLException e) {
      throw new GeneralSecurityException(certificate.name() + ": " + e.getMessage(), e);
    }
  }
}
