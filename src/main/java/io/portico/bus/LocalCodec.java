package io.portico.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Hands immutable objects over the local event bus by reference: no copy, no serialisation.
 * Portico runs in one JVM, so sending over the wire is a programming error.
 */
public final class LocalCodec<T> implements MessageCodec<T, T> {

  private final Class<T> type;

  private LocalCodec(Class<T> type) {
    this.type = type;
  }

  /** Registers the codecs for every message type Portico sends; call once per Vert.x instance. */
  public static void registerAll(Vertx vertx) {
    register(vertx, Versioned.class);
    register(vertx, ProxyState.class);
  }

  private static <T> void register(Vertx vertx, Class<T> type) {
    vertx.eventBus().registerDefaultCodec(type, new LocalCodec<>(type));
  }

  @Override
  public void encodeToWire(Buffer buffer, T value) {
    throw new UnsupportedOperationException(type.getSimpleName() + " is local-only");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(type.getSimpleName() + " is local-only");
  }

  @Override
  public T transform(T value) {
    return value;
  }

  @Override
  public String name() {
    return "portico-local-" + type.getSimpleName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
