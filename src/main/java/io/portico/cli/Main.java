package io.portico.cli;

import io.portico.proxy.LibraryLogs;

/**
 * The {@code portico} command line: {@code run}, {@code quickstart}, {@code echo},
 * {@code translate}. Exit codes: 0 success, 1 the gateway could not start or failed, 2 the
 * command line was wrong.
 */
public final class Main {

  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  private static final String USAGE = """
      Portico: a Kubernetes Gateway API gateway (control plane and data plane in one process).

      Usage: java -jar portico.jar <command> [options]

      Commands:
        run          serve Gateway API objects: from a directory of YAML (--config DIR)
                     or from the Kubernetes API server (--kubernetes)
        quickstart   serve examples/quickstart with built-in echo backends
        echo         run an HTTP echo backend (the conformance echo server's answers)
        translate    read a config directory once, print the routing table and status, exit

      Run `java -jar portico.jar <command> --help` for the options of a command.
      """;

  private Main() {
  }

  public static void main(String[] args) {
    NettyDefaults.apply();
    LibraryLogs.install(); // before Netty and Vert.x make their loggers
    int code = run(args);
    if (code != EXIT_OK || args.length == 0 || isHelp(args[0]) || args[0].equals("translate")) {
      System.exit(code);
    }
  }

  /** Runs a command; returns its exit code, or 0 once a long-running command has started. */
  static int run(String[] args) {
    if (args.length == 0 || isHelp(args[0])) {
      System.out.print(USAGE);
      return args.length == 0 ? EXIT_USAGE : EXIT_OK;
    }
    try {
      switch (args[0]) {
        case "run":
          return GatewayCommand.run(args, false);
        case "quickstart":
          return GatewayCommand.run(args, true);
        case "echo":
          return EchoCommand.run(args);
        case "translate":
          return TranslateCommand.run(args);
        default:
          System.err.println("portico: unknown command '" + args[0] + "'\n");
          System.err.print(USAGE);
          return EXIT_USAGE;
      }
    } catch (Arguments.UsageException e) {
      System.err.println("portico " + e.getMessage());
      return EXIT_USAGE;
    }
  }

  static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h") || arg.equals("help");
  }

  static boolean wantsHelp(String[] args) {
    for (int i = 1; i < args.length; i++) {
      if (isHelp(args[i])) {
        return true;
      }
    }
    return false;
  }
}
