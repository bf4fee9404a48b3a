package io.portico.cli;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.provider.FileProvider;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ResourceSnapshot;
import io.portico.translate.Translation;
import io.portico.translate.Translator;
import io.portico.translate.TranslatorOptions;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code translate} command: a dry run. Reads a config directory the way {@code run} does,
 * prints the configuration problems, the routing table and every object's status as YAML, and
 * exits 1 when a file or object was rejected.
 */
final class TranslateCommand {

  private static final String HELP = """
      Usage: java -jar portico.jar translate --config DIR [--controller-name NAME]

      Reads DIR once, as `run` would, and prints the problems found, the routing table and the
      status of every Gateway API object (YAML). Exit code 1 when something was rejected.
      """;

  private TranslateCommand() {
  }

  static int run(String[] args) throws Arguments.UsageException {
    if (Main.wantsHelp(args)) {
      System.out.print(HELP);
      return Main.EXIT_OK;
    }
    Arguments arguments = Arguments.parse("translate", args, 1,
        Set.of("--config", "--controller-name"), Set.of());
    if (!arguments.has("--config")) {
      throw new Arguments.UsageException("translate: --config DIR is required");
    }
    Path directory = Path.of(arguments.get("--config", null));
    Vertx vertx = Vertx.vertx();
    try {
      AtomicReference<ResourceSnapshot> snapshot = new AtomicReference<>();
      FileProvider provider =
          new FileProvider(vertx, directory, (read, changeNanos) -> snapshot.set(read));
      provider.start().toCompletionStage().toCompletableFuture().get();
      List<ConfigProblem> problems = provider.problems();
      provider.stop();
      Translation translation = new Translator(new TranslatorOptions(
          arguments.get("--controller-name", TranslatorOptions.DEFAULT_CONTROLLER_NAME),
          "127.0.0.1")).translate(snapshot.get());
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("problems", problems.stream().map(ConfigProblem::toString).toList());
      out.put("routingTable", translation.table());
      Map<String, Object> status = new LinkedHashMap<>();
      translation.status().all().forEach((key, value) -> status.put(key.toString(), value));
      out.put("status", status);
      System.out.print(new KubernetesSerialization().asYaml(out));
      return problems.stream().anyMatch(ConfigProblem::isError) ? Main.EXIT_FAILED : Main.EXIT_OK;
    } catch (Exception e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      System.err.println("portico translate: " + cause.getMessage());
      return Main.EXIT_FAILED;
    } finally {
      vertx.close();
    }
  }
}
