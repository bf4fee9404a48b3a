package io.portico.proxy.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslCachingX509KeyManagerFactory;
import io.netty.handler.ssl.OpenSslServerSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.SSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Chooses the TLS engine of every listener and upstream client: OpenSSL (BoringSSL, from
 * netty-tcnative-boringssl-static) when its native library loads, else the JDK's, said once in
 * the log. BoringSSL does a handshake in a fraction of the JDK engine's time, allocates far less
 * per record, and refuses client-initiated renegotiation.
 *
 * <p>On top of Vert.x's OpenSSL defaults: session tickets on (TLS 1.3 resumes only by ticket;
 * netty turns them off unless keys are set, see {@link SessionTicketKeys}), the key material of
 * each certificate converted once instead of at every handshake (the {@link SniKeyManager}'s
 * aliases name a certificate's content, so a renewed Secret is a new entry), and the cipher
 * suites of Mozilla's "intermediate" profile instead of everything BoringSSL can do.
 */
public final class TlsEngines {

  private static final Logger LOG = LoggerFactory.getLogger(TlsEngines.class);

  /**
   * TLS 1.2 suites with forward secrecy and AEAD (Mozilla intermediate); TLS 1.3 suites are
   * BoringSSL's fixed, all-good set.
   */
  static final List<String> CIPHER_SUITES = List.of(
      "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
      "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
      "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305");

  /** TLS 1.2 is the oldest version Portico speaks, on both sides. */
  public static final Set<String> PROTOCOLS = Set.of("TLSv1.2", "TLSv1.3");

  private static volatile SSLEngineOptions engine;

  private TlsEngines() {
  }

  /** Returns the engine options to set on every TLS server and client. */
  public static SSLEngineOptions engine() {
    SSLEngineOptions current = engine;
    if (current == null) {
      synchronized (TlsEngines.class) {
        current = engine;
        if (current == null) {
          current = choose();
          engine = current;
        }
      }
    }
    return current;
  }

  /**
   * Chooses the engine on a thread of its own, so that loading the native library (extracted
   * from the jar and linked, ~100 ms of a start) overlaps reading the configuration instead of
   * delaying the first listener. A caller of {@link #engine()} meanwhile waits for it.
   */
  public static void chooseInBackground() {
    Thread thread = new Thread(TlsEngines::engine, "portico-tls-engine");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Builds the server context of one certificate for a TLS listener Portico terminates itself
   * (a TLSRoute in {@code Terminate} mode, outside Vert.x's HTTP servers), with what every HTTPS
   * listener gets: the same engine, TLS 1.2 minimum, the same cipher suites and session tickets.
   *
   * @throws SSLException when the engine refuses the key or the chain
   */
  public static SslContext serverContext(PrivateKey key, List<X509Certificate> chain)
      throws SSLException {
    boolean openSsl = engine() instanceof PorticoOpenSsl;
    SslContextBuilder builder = SslContextBuilder.forServer(key, chain)
        .sslProvider(openSsl ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols(PROTOCOLS);
    if (openSsl) {
      builder.ciphers(CIPHER_SUITES);
    }
    return withTickets(builder.build());
  }

  /** Gives a server context the process's session ticket keys (see {@link SessionTicketKeys}). */
  private static SslContext withTickets(SslContext context) {
    if (context.isServer()
        && context.sessionContext() instanceof OpenSslServerSessionContext sessions) {
      SessionTicketKeys.install(sessions);
    }
    return context;
  }

  private static SSLEngineOptions choose() {
    if (OpenSsl.isAvailable() && OpenSsl.supportsKeyManagerFactory()) {
      LOG.debug("TLS engine: {} (ALPN {})", OpenSsl.versionString(),
          OpenSSLEngineOptions.isAlpnAvailable() ? "on" : "off");
      return new PorticoOpenSsl();
    }
    Throwable cause = OpenSsl.unavailabilityCause();
    LOG.warn("TLS engine: the JDK's, slower than OpenSSL: netty-tcnative-boringssl-static "
        + "cannot load on this platform ({})", cause == null ? "no KeyManagerFactory support"
        : cause.toString());
    return new JdkSSLEngineOptions();
  }

  /** OpenSSL with tickets, cached key material and Portico's cipher suites. */
  private static final class PorticoOpenSsl extends OpenSSLEngineOptions {

    @Override
    public OpenSSLEngineOptions copy() {
      return new PorticoOpenSsl();
    }

    @Override
    public SslContextFactory sslContextFactory() {
      return new Factory(super.sslContextFactory());
    }
  }

  /** Vert.x's OpenSSL context factory, adjusted as the class comment says. */
  private static final class Factory implements SslContextFactory {

    private final SslContextFactory delegate;
    private boolean ciphersSet;

    Factory(SslContextFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public SslContextFactory useAlpn(boolean useAlpn) {
      delegate.useAlpn(useAlpn);
      return this;
    }

    @Override
    public SslContextFactory clientAuth(io.netty.handler.ssl.ClientAuth clientAuth) {
      delegate.clientAuth(clientAuth);
      return this;
    }

    @Override
    public SslContextFactory forClient(boolean forClient) {
      delegate.forClient(forClient);
      return this;
    }

    @Override
    public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
      // The caching factory tells netty the material of an alias never changes.
      delegate.keyMananagerFactory(kmf == null || kmf instanceof OpenSslCachingX509KeyManagerFactory
          ? kmf : new OpenSslCachingX509KeyManagerFactory(kmf));
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
      delegate.trustManagerFactory(tmf);
      return this;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> enabledCipherSuites) {
      if (enabledCipherSuites != null && !enabledCipherSuites.isEmpty()) {
        delegate.enabledCipherSuites(enabledCipherSuites);
        ciphersSet = true;
      }
      return this;
    }

    @Override
    public SslContextFactory applicationProtocols(List<String> applicationProtocols) {
      delegate.applicationProtocols(applicationProtocols);
      return this;
    }

    @Override
    public SslContextFactory serverName(String serverName) {
      delegate.serverName(serverName);
      return this;
    }

    @Override
    public SslContext create() throws SSLException {
      if (!ciphersSet) {
        delegate.enabledCipherSuites(new java.util.LinkedHashSet<>(CIPHER_SUITES));
      }
      return withTickets(delegate.create());
    }
  }
}
