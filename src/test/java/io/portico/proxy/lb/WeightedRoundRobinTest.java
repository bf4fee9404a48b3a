package io.portico.proxy.lb;

import static org.assertj.core.api.Assertions.assertThat;

import io.portico.ir.BackendGroup;
import io.portico.ir.BackendKey;
import io.portico.ir.WeightedBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Smooth weighted round robin over the backends of one rule. */
class WeightedRoundRobinTest {

  /** Builds a group of backends named a, b, c ... with the given space-separated weights. */
  private static BackendGroup group(String weights) {
    List<WeightedBackend> backends = new ArrayList<>();
    if (!weights.isEmpty()) {
      int[] parsed = Arrays.stream(weights.split(" ")).mapToInt(Integer::parseInt).toArray();
      for (int i = 0; i < parsed.length; i++) {
        String name = String.valueOf((char) ('a' + i));
        backends.add(WeightedBackend.of(name, parsed[i], BackendKey.service("default", name, 80)));
      }
    }
    return BackendGroup.of("g", backends);
  }

  private static String picks(WeightedRoundRobin wrr, int count) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < count; i++) {
      WeightedBackend next = wrr.next();
      out.append(next == null ? "-" : next.name());
    }
    return out.toString();
  }

  private static Map<String, Integer> counts(String picks) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (char c : picks.toCharArray()) {
      counts.merge(String.valueOf(c), 1, Integer::sum);
    }
    return counts;
  }

  @ParameterizedTest(name = "weights [{0}] over {1} picks -> {2}")
  @CsvSource({
      "80 20,     1000, 'a=800, b=200'",
      "1 1 1,     300,  'a=100, b=100, c=100'",
      "3 2 1,     600,  'a=300, b=200, c=100'",
      "5 0 5,     100,  'a=50, c=50'",
      "0 7,       70,   'b=70'",
      "1,         10,   'a=10'",
      "1 99,      1000, 'a=10, b=990'",
      "2 3 0 5,   1000, 'a=200, b=300, d=500'",
  })
  void picksEachBackendExactlyInProportionToItsWeight(String weights, int picks,
      String expected) {
    Map<String, Integer> counts = counts(picks(new WeightedRoundRobin(group(weights)), picks));
    Map<String, Integer> wanted = new LinkedHashMap<>();
    for (String part : expected.split(", ")) {
      String[] kv = part.split("=");
      wanted.put(kv[0], Integer.parseInt(kv[1]));
    }
    assertThat(counts).containsExactlyInAnyOrderEntriesOf(wanted);
  }

  @ParameterizedTest(name = "weights [{0}] -> {1}")
  @CsvSource({
      "1 1 1,  abcabcabc",
      "1 1,    abababab",
      "2 1,    abaaba",
      // nginx's documented sequence for weights 5/1/1
      "5 1 1,  aabacaaaabacaa",
      "4 1,    aabaaaabaa",
  })
  void interleavesPicksSmoothlyInAFixedCycle(String weights, String expected) {
    assertThat(picks(new WeightedRoundRobin(group(weights)), expected.length()))
        .isEqualTo(expected);
  }

  @Test
  void eightyTwentySplitPicksTheSmallBackendInEveryFiveConsecutivePicks() {
    String picks = picks(new WeightedRoundRobin(group("80 20")), 1000);
    for (int i = 0; i + 5 <= picks.length(); i++) {
      assertThat(picks.substring(i, i + 5)).as("picks %d..%d", i, i + 4).contains("b");
    }
    assertThat(picks).doesNotContain("aaaaa").doesNotContain("bb");
  }

  @ParameterizedTest(name = "weights [{0}] never pick the weight-0 backend")
  @CsvSource({"0 1", "1 0", "0 0 1", "3 0 2", "0 5 0 5 0"})
  void weightZeroBackendIsNeverPicked(String weights) {
    BackendGroup group = group(weights);
    String picks = picks(new WeightedRoundRobin(group), 500);
    for (WeightedBackend backend : group.backends()) {
      if (backend.weight() == 0) {
        assertThat(picks).doesNotContain(backend.name());
      } else {
        assertThat(picks).contains(backend.name());
      }
    }
  }

  @ParameterizedTest(name = "weights [{0}] -> null")
  @CsvSource({"''", "0", "0 0", "0 0 0"})
  void groupWithoutWeightReturnsNull(String weights) {
    WeightedRoundRobin wrr = new WeightedRoundRobin(group(weights));
    assertThat(picks(wrr, 5)).isEqualTo("-----");
  }

  @Test
  void unavailableBackendsGetTheirShareToo() {
    BackendGroup group = BackendGroup.of("g", List.of(
        WeightedBackend.of("ok", 3, BackendKey.service("default", "ok", 80)),
        WeightedBackend.unavailable("bad", 1, 500, "missing")));
    WeightedRoundRobin wrr = new WeightedRoundRobin(group);
    int unavailable = 0;
    for (int i = 0; i < 400; i++) {
      if (!wrr.next().available()) {
        unavailable++;
      }
    }
    assertThat(unavailable).isEqualTo(100);
  }
}
