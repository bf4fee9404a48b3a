package io.portico.resource;

import java.time.Duration;
import java.util.Objects;

/**
 * Parses duration strings the way Go's {@code time.ParseDuration} does, such as {@code 300ms},
 * {@code -1.5h} or {@code 2h45m}.
 *
 * <p>A duration is an optional sign followed by one or more decimal numbers, each with an
 * optional fraction and a unit: {@code ns}, {@code us} ({@code µs}, {@code μs}), {@code ms},
 * {@code s}, {@code m}, {@code h}. {@code "0"} alone needs no unit. The result must fit in a
 * signed 64-bit count of nanoseconds, as in Go.
 */
public final class GoDuration {

  /** 2^63 as an unsigned 64-bit value: the largest magnitude (of a negative duration). */
  private static final long MAX_MAGNITUDE = Long.MIN_VALUE;
  private static final long NANOSECOND = 1L;
  private static final long MICROSECOND = 1_000L;
  private static final long MILLISECOND = 1_000_000L;
  private static final long SECOND = 1_000_000_000L;
  private static final long MINUTE = 60 * SECOND;
  private static final long HOUR = 60 * MINUTE;

  private GoDuration() {
  }

  /**
   * Returns the duration {@code text} denotes.
   *
   * @throws IllegalArgumentException if {@code text} is not a valid Go duration or overflows
   */
  public static Duration parse(String text) {
    Objects.requireNonNull(text, "text");
    // Mirrors Go's time.ParseDuration step by step (including its float64 arithmetic for
    // fractions) so that every input yields exactly the nanoseconds Go would compute.
    int pos = 0;
    int len = text.length();
    boolean negative = false;
    if (len > 0 && (text.charAt(0) == '-' || text.charAt(0) == '+')) {
      negative = text.charAt(0) == '-';
      pos = 1;
    }
    if (len - pos == 1 && text.charAt(pos) == '0') {
      return Duration.ZERO;
    }
    if (pos == len) {
      throw invalid(text);
    }
    long total = 0; // unsigned
    while (pos < len) {
      char c = text.charAt(pos);
      if (!(c == '.' || isDigit(c))) {
        throw invalid(text);
      }
      int start = pos;
      long whole = 0; // unsigned, at most 2^63
      while (pos < len && isDigit(text.charAt(pos))) {
        if (Long.compareUnsigned(whole, Long.divideUnsigned(MAX_MAGNITUDE, 10)) > 0) {
          throw invalid(text);
        }
        whole = whole * 10 + (text.charAt(pos) - '0');
        if (Long.compareUnsigned(whole, MAX_MAGNITUDE) > 0) {
          throw invalid(text);
        }
        pos++;
      }
      boolean digitsBefore = pos != start;
      long fraction = 0; // unsigned, at most 2^63
      double scale = 1;
      boolean digitsAfter = false;
      if (pos < len && text.charAt(pos) == '.') {
        pos++;
        int fractionStart = pos;
        boolean overflow = false;
        while (pos < len && isDigit(text.charAt(pos))) {
          if (!overflow) {
            if (Long.compareUnsigned(fraction, Long.MAX_VALUE / 10) > 0) {
              overflow = true;
            } else {
              long next = fraction * 10 + (text.charAt(pos) - '0');
              if (Long.compareUnsigned(next, MAX_MAGNITUDE) > 0) {
                overflow = true;
              } else {
                fraction = next;
                scale *= 10;
              }
            }
          }
          pos++;
        }
        digitsAfter = pos != fractionStart;
      }
      if (!digitsBefore && !digitsAfter) {
        throw invalid(text);
      }
      int unitStart = pos;
      while (pos < len && text.charAt(pos) != '.' && !isDigit(text.charAt(pos))) {
        pos++;
      }
      if (pos == unitStart) {
        throw new IllegalArgumentException("missing unit in duration \"" + text + "\"");
      }
      String unitName = text.substring(unitStart, pos);
      long unit = unit(unitName);
      if (unit == 0) {
        throw new IllegalArgumentException(
            "unknown unit \"" + unitName + "\" in duration \"" + text + "\"");
      }
      if (Long.compareUnsigned(whole, Long.divideUnsigned(MAX_MAGNITUDE, unit)) > 0) {
        throw invalid(text);
      }
      long value = whole * unit;
      if (fraction != 0) {
        // The fractional part is below one hour (3.6e12 ns), so the cast cannot overflow.
        value += (long) (unsignedToDouble(fraction) * ((double) unit / scale));
        if (Long.compareUnsigned(value, MAX_MAGNITUDE) > 0) {
          throw invalid(text);
        }
      }
      long sum = total + value;
      // Both terms are at most 2^63, so a wrapped sum is smaller than either (Go misses this).
      if (Long.compareUnsigned(sum, total) < 0 || Long.compareUnsigned(sum, MAX_MAGNITUDE) > 0) {
        throw invalid(text);
      }
      total = sum;
    }
    if (negative) {
      return Duration.ofNanos(-total);
    }
    if (total < 0) {
      throw invalid(text);
    }
    return Duration.ofNanos(total);
  }

  private static long unit(String name) {
    switch (name) {
      case "ns":
        return NANOSECOND;
      case "us":
      case "\u00b5s":
      case "\u03bcs":
        return MICROSECOND;
      case "ms":
        return MILLISECOND;
      case "s":
        return SECOND;
      case "m":
        return MINUTE;
      case "h":
        return HOUR;
      default:
        return 0;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** Converts like Go's {@code float64(uint64)}: rounds to nearest for values above 2^63-1. */
  private static double unsignedToDouble(long value) {
    if (value >= 0) {
      return value;
    }
    return ((value >>> 1) | (value & 1)) * 2.0;
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException("invalid duration \"" + text + "\"");
  }
}
