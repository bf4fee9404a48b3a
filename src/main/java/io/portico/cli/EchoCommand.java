package io.portico.cli;

import io.portico.echo.EchoOptions;
import io.portico.echo.EchoServer;
import io.vertx.core.Vertx;

import java.util.Set;
import java.util.concurrent.ExecutionException;

/** The {@code echo} command: an HTTP echo backend for demos, docker compose and benchmarks. */
final class EchoCommand {

  private static final String HELP = """
      Usage: java -jar portico.jar echo --port N [--host ADDRESS] [--pod NAME] [--namespace NS]

      Answers every request with JSON describing it (path, host, method, proto, headers,
      namespace, pod), like the Gateway API conformance echo server; /status/NNN answers NNN,
      ?delay=1s waits, X-Echo-Set-Header: Name:value adds response headers.

        --port N          port to listen on (required)
        --host ADDRESS    address to listen on (default 127.0.0.1)
        --pod NAME        pod name to report (default: echo-<port>)
        --namespace NS    namespace to report (default: default)
      """;

  private EchoCommand() {
  }

  static int run(String[] args) throws Arguments.UsageException {
    if (Main.wantsHelp(args)) {
      System.out.print(HELP);
      return Main.EXIT_OK;
    }
    Arguments arguments = Arguments.parse("echo", args, 1,
        Set.of("--port", "--host", "--pod", "--namespace"), Set.of());
    if (!arguments.has("--port")) {
      throw new Arguments.UsageException("echo: --port N is required");
    }
    int port = arguments.getInt("echo", "--port", 0, 0, 65535);
    EchoOptions options = new EchoOptions(arguments.get("--host", "127.0.0.1"), port,
        arguments.get("--pod", "echo-" + port), arguments.get("--namespace", "default"));
    Vertx vertx = Vertx.vertx();
    try {
      EchoServer server = EchoServer.start(vertx, options).toCompletionStage().toCompletableFuture().get();
      System.err.println("echo backend listening on " + options.host() + ":" + server.port()
          + " (pod " + options.pod() + ", namespace " + options.namespace() + ")");
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
