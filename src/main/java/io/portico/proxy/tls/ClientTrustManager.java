package io.portico.proxy.tls;

import io.portico.ir.ClientValidation;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Validates client certificates of one HTTPS port against the CA certificates of the current
 * table; a table swap hands it new ones ({@link #use}) without rebinding the port. With
 * {@code allowInsecureFallback} a certificate that does not validate is let through, as the
 * Gateway API's AllowInsecureFallback mode asks.
 */
public final class ClientTrustManager extends X509ExtendedTrustManager {

  private record State(ClientValidation validation, X509ExtendedTrustManager delegate) {
  }

  private volatile State state;

  public ClientTrustManager(ClientValidation validation) {
    use(validation);
  }

  /** Validates with {@code validation}'s CAs from now on (unchanged CAs are not reparsed). */
  public void use(ClientValidation validation) {
    State current = state;
    if (current != null && current.validation().equals(validation)) {
      return;
    }
    state = new State(validation, PkixTrust.trustManager(validation.caCertificatesPem()));
  }



  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    State current = state;
    try {
      current.delegate().checkClientTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      if (!current.validation().allowInsecureFallback()) {
        throw e;
      }
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    State current = state;
    try {
      current.delegate().checkClientTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      if (!current.validation().allowInsecureFallback()) {
        throw e;
      }
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    State current = state;
    try {
      current.delegate().checkClientTrusted(chain, authType);
    } catch (CertificateException e) {
      if (!current.validation().allowInsecureFallback()) {
        throw e;
      }
    }
  }

  /** Whether clients without a valid certificate are let through (AllowInsecureFallback). */
  public boolean insecureFallback() {
    return state.validation().allowInsecureFallback();
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return state.delegate().getAcceptedIssuers();
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("a server-side trust manager checks only clients");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("a server-side trust manager checks only clients");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("a server-side trust manager checks only clients");
  }
}
