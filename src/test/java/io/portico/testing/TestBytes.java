package io.portico.testing;

/** Bodies and streams whose every byte can be checked: they differ by seed and by offset. */
public final class TestBytes {

  private TestBytes() {
  }

  /** Returns the {@code size} bytes for {@code seed}. */
  public static byte[] of(int seed, int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
    }
    return bytes;
  }
}
