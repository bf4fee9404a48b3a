package io.portico.resource;

import java.util.Objects;

/**
 * Describes one thing wrong (or worth a warning) in a configuration file, with where it is.
 *
 * @param file the file, as the user knows it
 * @param line the 1-based line the problem is on, or 0 when it is about the whole file
 * @param severity whether the content was rejected ({@link Severity#ERROR}) or only noted
 * @param message what is wrong, for a person to read
 */
public record ConfigProblem(String file, int line, Severity severity, String message) {

  /** Tells whether a problem made Portico reject something or is only a warning. */
  public enum Severity {
    /** Something was rejected and is not served (or an older version of it is). */
    ERROR,
    /** Nothing was rejected, but the user should know. */
    WARNING
  }

  public ConfigProblem {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(message, "message");
    line = Math.max(line, 0);
  }

  /** Returns an {@link Severity#ERROR} problem. */
  public static ConfigProblem error(String file, int line, String message) {
    return new ConfigProblem(file, line, Severity.ERROR, message);
  }

  /** Returns a {@link Severity#WARNING} problem. */
  public static ConfigProblem warning(String file, int line, String message) {
    return new ConfigProblem(file, line, Severity.WARNING, message);
  }

  /** Returns whether this is an {@link Severity#ERROR}. */
  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /** Returns {@code file:line: message}, or {@code file: message} for a whole-file problem. */
  @Override
  public String toString() {
    return line > 0 ? file + ":" + line + ": " + message : file + ": " + message;
  }
}
