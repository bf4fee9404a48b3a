package io.portico.proxy.tcp;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.portico.ir.TlsCertificate;
import io.portico.tls.PemCertificate;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.HashMap;
import java.util.Map;

/**
 * Ends TLS on a connection whose ClientHello has already been read (to choose the listener by
 * its SNI name): a TLS handler is put in front of the connection's Vert.x handler and the bytes
 * read so far are replayed into it, so the handshake proceeds as if nothing had been read and
 * the socket then carries the decrypted stream both ways.
 *
 * <p>Uses Vert.x's internal {@link NetSocketInternal} to reach the Netty pipeline: Vert.x's own
 * {@code upgradeToSsl} cannot take bytes that were already read. Contexts are kept per
 * certificate for the current table; confined to one event loop.
 */
final class TlsTerminator {

  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private Map<TlsCertificate, SSLContext> contexts = new HashMap<>();

  /** Keeps the contexts of the certificates still in use and forgets the others. */
  void retainOnly(java.util.Collection<TlsCertificate> inUse) {
    Map<TlsCertificate, SSLContext> kept = new HashMap<>();
    for (TlsCertificate certificate : inUse) {
      SSLContext context = contexts.get(certificate);
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
    SSLContext context = contexts.get(certificate);
    if (context == null) {
      context = context(certificate);
      contexts.put(certificate, context);
    }
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(PROTOCOLS);
    ChannelHandlerContext vertxHandler = ((NetSocketInternal) socket).channelHandlerContext();
    SslHandler tls = new SslHandler(engine);
    vertxHandler.pipeline().addBefore(vertxHandler.name(), "portico-tls-terminate", tls);
    // From the head of the pipeline, so the bytes pass the TLS handler like fresh ones.
    vertxHandler.pipeline().fireChannelRead(Unpooled.wrappedBuffer(received.getBytes()));
    vertxHandler.pipeline().fireChannelReadComplete();
  }

  private static SSLContext context(TlsCertificate certificate) throws GeneralSecurityException {
    PemCertificate pem;
    try {
      pem = PemCertificate.parse(certificate.certificatePem(), certificate.keyPem());
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException(certificate.name() + ": " + e.getMessage(), e);
    }
    try {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("listener", pem.key(), new char[0],
          pem.chain().toArray(Certificate[]::new));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(keys, new char[0]);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(factory.getKeyManagers(), null, null);
      return context;
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException(e);
    }
  }
}
