package io.portico.provider;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.portico.resource.StatusEchoes;

import java.util.stream.Stream;

/**
 * An informer's store that keeps a status-only copy of an object sharing the previous copy's
 * spec, instead of an equal spec of its own.
 *
 * <p>The Kubernetes provider does not take status-only updates into its snapshot (see
 * {@link StatusEchoes}), so the snapshot keeps the copy it translated while the informer keeps
 * the newest one, for the status writer: every route whose status Portico wrote was held twice
 * (at 10k routes, ~17k HTTPRoute copies live after start, bench/scale.py). Every copy's lists
 * are also made immutable and exact ({@link ImmutableModelLists}). A new copy is changed here
 * before the informer publishes it to any other thread.
 */
final class EchoSharingStore<T extends HasMetadata> implements ItemStore<T> {

  private final BasicItemStore<T> items = new BasicItemStore<>(Cache::metaNamespaceKeyFunc);

  @Override
  public String getKey(T object) {
    return items.getKey(object);
  }

  @Override
  public T put(String key, T object) {
    T previous = items.get(key);
    if (previous != null && previous != object && StatusEchoes.comparedFieldByField(object)
        && StatusEchoes.sameButStatus(previous, object)) {
      StatusEchoes.shareSpec(previous, object);
    }
    ImmutableModelLists.apply(object);
    return items.put(key, object);
  }

  @Override
  public T remove(String key) {
    return items.remove(key);
  }

  @Override
  public Stream<String> keySet() {
    return items.keySet();
  }

  @Override
  public Stream<T> values() {
    return items.values();
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public T get(String key) {
    return items.get(key);
  }
}
