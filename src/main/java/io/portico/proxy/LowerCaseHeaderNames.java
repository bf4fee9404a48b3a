package io.portico.proxy;

import io.netty.util.AsciiString;

/**
 * The lower-case form of header names, kept for reuse. HTTP/2 header names must be lower case,
 * so Vert.x lowers every name added to an HTTP/2 message, making a new String (and a
 * StringBuilder) each time one has a capital: most HTTP/1.1 backends answer {@code Content-Type},
 * {@code Date}, {@code Server}..., which cost an HTTP/2 client's every response ~5% of its bytes
 * allocated. Handing Vert.x a name that is already lower case costs it nothing.
 *
 * <p>A fixed table of {@value #SIZE} slots, indexed by the case-insensitive hash of a name; a
 * name whose slot holds another is lowered anew and takes the slot. Memory stays flat whatever
 * names backends send. Shared by every event loop: a slot holds an immutable name, so a racy
 * read sees either the old name or the new one, both correct for their own comparison.
 */
final class LowerCaseHeaderNames {

  private static final int SIZE = 512;
  private static final AsciiString[] SLOTS = new AsciiString[SIZE];

  private LowerCaseHeaderNames() {
  }

  /** Returns {@code name} in lower case: itself when it already is, else a kept copy. */
  static CharSequence of(CharSequence name) {
    if (!hasUpperCase(name)) {
      return name;
    }
    int slot = AsciiString.hashCode(name) & (SIZE - 1);
    AsciiString kept = SLOTS[slot];
    if (kept != null && AsciiString.contentEqualsIgnoreCase(kept, name)) {
      return kept;
    }
    AsciiString lower = AsciiString.of(name).toLowerCase();
    SLOTS[slot] = lower;
    return lower;
  }

  private static boolean hasUpperCase(CharSequence name) {
    for (int i = 0, length = name.length(); i < length; i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        return true;
      }
    }
    return false;
  }
}
