package io.portico.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses {@code --name value}, {@code --name=value} and {@code --flag} arguments of one command,
 * refusing unknown options with a message a shell user can act on.
 */
final class Arguments {

  /** A command line the user got wrong; the message says what to change. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final List<String> positional = new ArrayList<>();

  private Arguments() {
  }

  /**
   * @param options options that take a value
   * @param flags options that take none
   */
  static Arguments parse(String command, String[] args, int from, Set<String> options,
      Set<String> flags) throws UsageException {
    Arguments parsed = new Arguments();
    for (int i = from; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        parsed.positional.add(arg);
        continue;
      }
      String name = arg;
      String value = null;
      int equals = arg.indexOf('=');
      if (equals > 0) {
        name = arg.substring(0, equals);
        value = arg.substring(equals + 1);
      }
      if (flags.contains(name) && value == null) {
        parsed.values.put(name, "true");
      } else if (options.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException(command + ": " + name + " needs a value");
          }
          value = args[++i];
        }
        parsed.values.put(name, value);
      } else {
        throw new UsageException(command + ": unknown option " + name
            + " (see `portico " + command + " --help`)");
      }
    }
    return parsed;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  int getInt(String command, String name, int fallback, int min, int max) throws UsageException {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(value);
      if (parsed < min || parsed > max) {
        throw new NumberFormatException();
      }
      return parsed;
    } catch (NumberFormatException e) {
      throw new UsageException(command + ": " + name + " " + value + " (expected: a number "
          + min + "-" + max + ")");
    }
  }

  List<String> positional() {
    return positional;
  }
}
