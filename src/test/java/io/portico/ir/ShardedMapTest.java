package io.portico.ir;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ShardedMapTest {

  @Test
  void randomChangesGiveTheSameMapAsAHashMapAndLeaveTheOriginalAsItWas() {
    Random random = new Random(7);
    Map<String, Integer> expected = new HashMap<>();
    ShardedMap<String, Integer> map = ShardedMap.empty();
    for (int round = 0; round < 300; round++) {
      Map<String, Integer> changes = new HashMap<>();
      int count = 1 + random.nextInt(round < 20 ? 200 : 5);
      for (int i = 0; i < count; i++) {
        String key = "r" + random.nextInt(2_000) + ".example.com";
        changes.put(key, random.nextInt(4) == 0 ? null : random.nextInt());
      }
      Map<String, Integer> before = new HashMap<>(map);
      ShardedMap<String, Integer> next = map.with(changes);
      assertThat(map).isEqualTo(before); // persistent: the old map is unchanged
      changes.forEach((key, value) -> {
        if (value == null) {
          expected.remove(key);
        } else {
          expected.put(key, value);
        }
      });
      map = next;
      assertThat(map).isEqualTo(expected).hasSameSizeAs(expected);
      assertThat(map.keySet()).isEqualTo(expected.keySet());
      for (int probe = 0; probe < 50; probe++) {
        String key = "r" + random.nextInt(2_000) + ".example.com";
        assertThat(map.get(key)).isEqualTo(expected.get(key));
        assertThat(map.containsKey(key)).isEqualTo(expected.containsKey(key));
      }
    }
  }

  @Test
  void isImmutableAndAnswersNullKeysWithoutThrowing() {
    ShardedMap<String, String> map = ShardedMap.copyOf(Map.of("a", "1"));
    assertThatThrownBy(() -> map.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> map.entrySet().iterator().next().setValue("x"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(map.get(null)).isNull();
    assertThat(ShardedMap.<String, String>empty().containsKey(null)).isFalse();
    assertThat(map.with(Map.of())).isSameAs(map);
    assertThat(ShardedMap.copyOf(map)).isSameAs(map);
  }

  @Test
  void removingTheLastKeysLeavesAnEmptyMap() {
    ShardedMap<String, String> map = ShardedMap.copyOf(Map.of("a", "1", "b", "2"));
    Map<String, String> removeAll = new HashMap<>();
    removeAll.put("a", null);
    removeAll.put("b", null);
    removeAll.put("never-there", null);
    ShardedMap<String, String> empty = map.with(removeAll);
    assertThat(empty).isEmpty();
    assertThat(empty.size()).isZero();
    assertThat(map).hasSize(2);
  }
}
