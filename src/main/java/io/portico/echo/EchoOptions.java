package io.portico.echo;

import java.util.Objects;

/**
 * Says where an {@link EchoServer} listens, which pod identity it reports in its answers, and
 * how the port behaves.
 *
 * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port the TCP port to bind (0-65535); 0 picks a free port, see {@link EchoServer#port()}
 * @param pod the pod name reported as {@code pod}
 * @param namespace the namespace reported as {@code namespace}
 * @param h2cOnly whether the port answers only HTTP/2 (prior knowledge or {@code Upgrade: h2c})
 *     and rejects other HTTP/1.x requests with 400 {@code Expected h2c request}, like the
 *     echo-basic h2c port 3001
 * @param tls the port's TLS material, or null for cleartext
 */
public record EchoOptions(String host, int port, String pod, String namespace, boolean h2cOnly,
    EchoTls tls) {

  public EchoOptions {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(namespace, "namespace");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
    if (h2cOnly && tls != null) {
      throw new IllegalArgumentException("h2cOnly is for cleartext ports");
    }
  }

  /** A cleartext port answering HTTP/1.0, HTTP/1.1 and h2c. */
  public EchoOptions(String host, int port, String pod, String namespace) {
    this(host, port, pod, namespace, false, null);
  }

  /** Returns these options with {@link #h2cOnly()} set as given. */
  public EchoOptions withH2cOnly(boolean h2cOnly) {
    return new EchoOptions(host, port, pod, namespace, h2cOnly, tls);
  }

  /** Returns these options serving HTTPS with {@code tls} (null = cleartext). */
  public EchoOptions withTls(EchoTls tls) {
    return new EchoOptions(host, port, pod, namespace, h2cOnly, tls);
  }
}
