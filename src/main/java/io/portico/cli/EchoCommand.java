package io.portico.cli;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoServer;
import io.portico.echo.EchoTls;
import io.portico.echo.GrpcEchoServer;
import io.portico.echo.TcpEchoServer;
import io.portico.echo.UdpEchoServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/**
 * The {@code echo} command: an HTTP, gRPC, TCP or UDP echo backend for demos, docker compose and
 * benchmarks.
 */
final class EchoCommand {

  private static final String HELP = """
      Usage: java -jar portico.jar echo --port N [--host ADDRESS] [--pod NAME] [--namespace NS]
                                        [--grpc | --tcp | --udp] [--tls-cert FILE --tls-key FILE]

      Answers every request with JSON describing it (path, host, method, proto, headers,
      namespace, pod), like the Gateway API conformance echo server; /status/NNN answers NNN,
      ?delay=1s waits, X-Echo-Set-Header: Name:value adds response headers.
      With --tcp it speaks the conformance TCP echo dialogue instead: a welcome line, then
      PING -> PONG, IS_TLS -> true/false, TEST -> JSON (pod, namespace, TLS server name), and
      any other line back. With --udp every datagram is answered with one datagram holding
      JSON (request, namespace, service, pod), like the conformance UDP echo server. With
      --grpc it serves the conformance gRPC echo service
      (gateway_api_conformance.echo_basic.grpcecho.GrpcEcho: Echo and EchoTwo answer what
      they received, EchoThree is UNIMPLEMENTED) over h2c, or h2 with TLS.

        --port N          port to listen on (required)
        --host ADDRESS    address to listen on (default 127.0.0.1)
        --pod NAME        pod name to report (default: echo-<port>)
        --namespace NS    namespace to report (default: default)
        --grpc            gRPC echo service instead of HTTP
        --tcp             TCP echo dialogue instead of HTTP
        --udp             UDP echo instead of HTTP (--service NAME: the service to report)
        --tls-cert FILE   serve TLS with this certificate chain (PEM); needs --tls-key
        --tls-key FILE    the certificate's private key (PEM, PKCS#1 or PKCS#8)
      """;

  private EchoCommand() {
  }

  static int run(String[] args) throws Arguments.UsageException {
    if (Main.wantsHelp(args)) {
      System.out.print(HELP);
      return Main.EXIT_OK;
    }
    Arguments arguments = Arguments.parse("echo", args, 1,
        Set.of("--port", "--host", "--pod", "--namespace", "--tls-cert", "--tls-key", "--service"),
        Set.of("--tcp", "--udp", "--grpc"));
    if (!arguments.has("--port")) {
      throw new Arguments.UsageException("echo: --port N is required");
    }
    if (arguments.has("--tls-cert") != arguments.has("--tls-key")) {
      throw new Arguments.UsageException("echo: --tls-cert and --tls-key go together");
    }
    int port = arguments.getInt("echo", "--port", 0, 0, 65535);
    EchoOptions options = new EchoOptions(arguments.get("--host", "127.0.0.1"), port,
        arguments.get("--pod", "echo-" + port), arguments.get("--namespace", "default"));
    if (arguments.has("--tls-cert")) {
      try {
        options = options.withTls(new EchoTls(
            Files.readString(Path.of(arguments.get("--tls-cert", ""))),
            Files.readString(Path.of(arguments.get("--tls-key", ""))), null));
      } catch (IOException e) {
        System.err.println("portico echo: cannot read the TLS files: " + e.getMessage());
        return Main.EXIT_FAILED;
      }
    }
    boolean tcp = arguments.has("--tcp");
    boolean udp = arguments.has("--udp");
    boolean grpc = arguments.has("--grpc");
    if ((tcp ? 1 : 0) + (udp ? 1 : 0) + (grpc ? 1 : 0) > 1) {
      throw new Arguments.UsageException("echo: one of --grpc, --tcp and --udp at most");
    }
    if (udp && options.tls() != null) {
      throw new Arguments.UsageException("echo: --udp does not go with TLS");
    }
    Vertx vertx = Vertx.vertx();
    try {
      Future<?> started = tcp ? TcpEchoServer.start(vertx, options)
          : udp ? UdpEchoServer.start(vertx, options, arguments.get("--service", ""))
          : grpc ? GrpcEchoServer.start(vertx, options)
          : EchoServer.start(vertx, options);
      Object server = started.toCompletionStage().toCompletableFuture().get();
      int actual = server instanceof TcpEchoServer t ? t.port()
          : server instanceof UdpEchoServer u ? u.port()
          : server instanceof GrpcEchoServer g ? g.port() : ((EchoServer) server).port();
      System.err.println((tcp ? "TCP" : udp ? "UDP" : grpc ? "gRPC" : "HTTP")
          + (options.tls() == null ? "" : " (TLS)")
          + " echo backend listening on " + options.host() + ":" + actual + " (pod "
          + options.pod() + ", namespace " + options.namespace() + ")");
      return Main.EXIT_OK;
    } catch (ExecutionException e) {
      System.err.println("portico echo: cannot listen on " + options.host() + ":" + port + ": "
          + e.getCause().getMessage());
      vertx.close();
      return Main.EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Main.EXIT_FAILED;
    }
  }
}
