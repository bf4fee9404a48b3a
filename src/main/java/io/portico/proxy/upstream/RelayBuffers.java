package io.portico.proxy.upstream;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;
import io.vertx.core.impl.buffer.VertxByteBufAllocator;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * Allocates the buffers upstream connections read into, so that what a backend sends reaches
 * the client without being copied: the chunk Vert.x hands over is the memory the bytes were read
 * into, and written to the client it needs no copy back into native memory.
 *
 * <p>Why not Netty's pooled allocator: Vert.x copies every chunk read into a
 * {@code PooledByteBufAllocator} or {@code AdaptiveByteBufAllocator} buffer onto the heap and
 * releases the original ({@code VertxHandler.safeBuffer}), because its streams drop chunks
 * without releasing them (after a reset, without a handler, in a discarded queue). A pooled
 * buffer dropped that way is lost to the pool for good. Two copies of every body chunk cost a
 * 16 KiB answer ~15% of its CPU. These buffers are made for being dropped: released, their
 * memory goes back to a small free list of the releasing event loop; dropped without a release,
 * the garbage collector frees it as it frees any direct {@link ByteBuffer}. A missed release
 * costs one allocation, never memory.
 *
 * <p>Whoever consumes a chunk of an upstream answer releases it with {@link #release(Buffer)}
 * once it is done with it: written (when the write completes) or dropped.
 *
 * <p>Not used for TCP/TLS streams: uncopied, the stream proxy spent ~10% less CPU per MiB of
 * 1 MiB passthrough answers, but the bench's throughput fell 10-15% (load core saturated in
 * both; p50 12.7 -> 15 ms), which is not understood yet.
 */
public final class RelayBuffers extends AbstractByteBufAllocator {

  /** The allocator of every upstream HTTP connection, or null where it cannot work. */
  public static final RelayBuffers ALLOCATOR =
      PlatformDependent.hasUnsafe() && PlatformDependent.directBufferPreferred()
          ? new RelayBuffers() : null;

  /**
   * Buffers up to this size come from Vert.x's pooled allocator, and what is read into them is
   * copied as before: a copy of a small answer costs less than the objects a buffer of ours
   * takes (measured: 100 B answers allocated 300 B more per request uncopied). Netty sizes read
   * buffers by what the previous reads of the connection brought, so small answers get small
   * buffers and large ones large buffers.
   */
  private static final int COPIED_UP_TO = 2048;
  /** The smallest size class: 4 KiB, the next power of two above {@link #COPIED_UP_TO}. */
  private static final int MIN_SHIFT = 12;
  /** The largest recycled size class: 64 KiB, the most Netty reads from a socket at once. */
  private static final int MAX_SHIFT = 16;
  /** At most this many bytes of one size class wait on one thread's free list. */
  private static final int FREE_BYTES_PER_CLASS = 1 << 20;
  /** Nor more than this many buffers of a small class. */
  private static final int FREE_BUFFERS_PER_CLASS = 64;

  private final FastThreadLocal<FreeLists> freeLists = new FastThreadLocal<>() {
    @Override
    protected FreeLists initialValue() {
      return new FreeLists();
    }
  };
  /** Buffers allocated and not released yet (dropped ones stay counted). */
  private final LongAdder outstanding = new LongAdder();

  private RelayBuffers() {
    super(true);
  }

  /**
   * Releases {@code chunk} if its memory is one of these buffers; does nothing to any other
   * buffer (HTTP/2 upstreams, for instance, hand over copies).
   */
  public static void release(Buffer chunk) {
    if (chunk instanceof BufferImpl impl) {
      ByteBuf memory = impl.byteBuf();
      if (memory.alloc() == ALLOCATOR && memory.refCnt() > 0) {
        memory.release();
      }
    }
  }

  /** How many of these buffers are allocated and not released: for tests. */
  public long outstanding() {
    return outstanding.sum();
  }

  @Override
  protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
    if (initialCapacity <= COPIED_UP_TO) {
      return VertxByteBufAllocator.POOLED_ALLOCATOR.directBuffer(initialCapacity, maxCapacity);
    }
    outstanding.increment();
    int shift = sizeClass(initialCapacity);
    if (shift > MAX_SHIFT || 1 << shift > maxCapacity) {
      // No size class fits: memory of the exact size, freed when released.
      return new RecycledBuffer(this, ByteBuffer.allocateDirect(initialCapacity), maxCapacity,
          false);
    }
    ByteBuffer memory = freeLists.get().take(shift);
    if (memory == null) {
      memory = ByteBuffer.allocateDirect(1 << shift);
    }
    return new RecycledBuffer(this, memory, maxCapacity, true);
  }

  @Override
  protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
    // Heap memory is the collector's anyway; Vert.x passes unpooled buffers on uncopied.
    return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return true;
  }

  private static int sizeClass(int capacity) {
    return Math.max(MIN_SHIFT, 32 - Integer.numberOfLeadingZeros(capacity - 1));
  }

  /** Gives released memory of a size class to this thread's free list, or to the collector. */
  private void recycle(ByteBuffer memory) {
    int shift = Integer.numberOfTrailingZeros(memory.capacity());
    if (FastThreadLocalThread.currentThreadHasFastThreadLocal()
        && freeLists.get().give(shift, memory)) {
      return;
    }
    // Off the event loops (a test thread, say), or the list is full: free it now rather than
    // wait for the collector.
    PlatformDependent.freeDirectBuffer(memory);
  }

  /** One thread's released memory, per size class. Used by its own thread only. */
  private static final class FreeLists {

    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] lists = new ArrayDeque[MAX_SHIFT + 1];

    ByteBuffer take(int shift) {
      ArrayDeque<ByteBuffer> list = lists[shift];
      return list == null ? null : list.pollLast();
    }

    boolean give(int shift, ByteBuffer memory) {
      ArrayDeque<ByteBuffer> list = lists[shift];
      if (list == null) {
        list = lists[shift] = new ArrayDeque<>();
      }
      int most = Math.min(FREE_BUFFERS_PER_CLASS, FREE_BYTES_PER_CLASS >> shift);
      if (list.size() >= most) {
        return false;
      }
      memory.clear();
      list.addLast(memory);
      return true;
    }
  }

  /**
   * A direct buffer over memory this allocator handed it. Netty does not free memory it was
   * handed ({@code doNotFree}): this buffer gives it back when released, or when a writer
   * outgrows it and Netty moves the bytes to memory of its own (which Netty then frees).
   */
  private static final class RecycledBuffer extends UnpooledUnsafeDirectByteBuf {

    private final RelayBuffers owner;
    /** Whether {@link #memory} is of a size class, to go back to a free list. */
    private final boolean sizeClass;
    /** The memory this allocator handed, while the buffer still uses it; else null. */
    private ByteBuffer memory;

    RecycledBuffer(RelayBuffers owner, ByteBuffer memory, int maxCapacity, boolean sizeClass) {
      super(owner, false, memory, maxCapacity); // the memory as it is, not a slice of it
      setIndex(0, 0); // The wrapping constructor takes the memory for content: it is not.
      this.owner = owner;
      this.memory = memory;
      this.sizeClass = sizeClass;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
      int oldCapacity = capacity();
      super.capacity(newCapacity);
      if (newCapacity != oldCapacity) {
        giveUpMemory(); // Netty copied the bytes into memory of its own.
      }
      return this;
    }

    @Override
    protected void deallocate() {
      super.deallocate(); // frees only memory Netty allocated (after a capacity change)
      giveUpMemory();
      owner.outstanding.decrement();
    }

    private void giveUpMemory() {
      ByteBuffer given = memory;
      memory = null;
      if (given == null) {
        return;
      }
      if (sizeClass) {
        owner.recycle(given);
      } else {
        PlatformDependent.freeDirectBuffer(given);
      }
    }
  }
}
