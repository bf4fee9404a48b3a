package io.portico.echo;

import java.util.Objects;

/**
 * Says where an {@link EchoServer} listens and which pod identity it reports in its answers.
 *
 * <p>Plain HTTP only for now; TLS (certificate, optional client CA) will be one more component
 * here, applied in {@code EchoServer.serverOptions} and reported by the echo as its
 * {@code tls} object.
 *
 * @param host the address to bind, e.g. {@code 127.0.0.1} or {@code 0.0.0.0}
 * @param port the TCP port to bind (0-65535); 0 picks a free port, see {@link EchoServer#port()}
 * @param pod the pod name reported as {@code pod}
 * @param namespace the namespace reported as {@code namespace}
 */
public record EchoOptions(String host, int port, String pod, String namespace) {

  public EchoOptions {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(namespace, "namespace");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
  }
}
