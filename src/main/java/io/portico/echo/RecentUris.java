package io.portico.echo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Counts the request URIs an echo server receives and keeps the most recent ones, without
 * locking so recording stays cheap on the event loop while tests read from other threads.
 */
final class RecentUris {

  private final AtomicReferenceArray<String> slots;
  private final AtomicLong count = new AtomicLong();

  RecentUris(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 1)");
    }
    slots = new AtomicReferenceArray<>(capacity);
  }

  void add(String uri) {
    long index = count.getAndIncrement();
    slots.set((int) (index % slots.length()), uri);
  }

  long count() {
    return count.get();
  }

  /**
   * Returns the recorded URIs, oldest first. A URI being recorded concurrently may be missing
   * or may replace the oldest entry; callers wait for the response before looking.
   */
  List<String> snapshot() {
    long end = count.get();
    long start = Math.max(0, end - slots.length());
    List<String> out = new ArrayList<>((int) (end - start));
    for (long i = start; i < end; i++) {
      String uri = slots.get((int) (i % slots.length()));
      if (uri != null) {
        out.add(uri);
      }
    }
    return out;
  }
}
