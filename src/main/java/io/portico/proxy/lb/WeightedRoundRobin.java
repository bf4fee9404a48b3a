package io.portico.proxy.lb;

import io.portico.ir.BackendGroup;
import io.portico.ir.WeightedBackend;

import java.util.List;

/**
 * Picks the backends of one rule in proportion to their weights, interleaved smoothly (nginx's
 * smooth weighted round robin: 80/20 gives four picks of the first for each of the second, not
 * eighty in a row). Confined to one event loop; a new table means a new instance.
 */
public final class WeightedRoundRobin {

  private final List<WeightedBackend> backends;
  private final int[] current;
  private final int total;

  public WeightedRoundRobin(BackendGroup group) {
    this.backends = group.backends();
    this.current = new int[backends.size()];
    this.total = group.totalWeight();
  }

  /** Returns the next backend, or null when every weight is 0. */
  public WeightedBackend next() {
    if (total == 0) {
      return null;
    }
    if (backends.size() == 1) {
      return backends.get(0);
    }
    int best = -1;
    for (int i = 0; i < current.length; i++) {
      current[i] += backends.get(i).weight();
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= total;
    return backends.get(best);
  }
}
