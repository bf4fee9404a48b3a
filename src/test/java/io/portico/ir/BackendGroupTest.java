package io.portico.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** BackendGroup and WeightedBackend invariants. */
class BackendGroupTest {

  private static final BackendKey KEY = BackendKey.service("default", "web", 80);

  private static List<WeightedBackend> backends(String weights) {
    List<WeightedBackend> list = new ArrayList<>();
    if (weights.isEmpty()) {
      return list;
    }
    int[] parsed = Arrays.stream(weights.split(" ")).mapToInt(Integer::parseInt).toArray();
    for (int i = 0; i < parsed.length; i++) {
      list.add(WeightedBackend.of("b" + i, parsed[i], KEY));
    }
    return list;
  }

  @ParameterizedTest(name = "weights [{0}] total {1}")
  @CsvSource({
      "'',          0",
      "1,           1",
      "0,           0",
      "80 20,       100",
      "1 1 1,       3",
      "0 0,         0",
      "5 0 7,       12",
  })
  void totalWeightIsTheSumOfTheWeights(String weights, int total) {
    assertThat(BackendGroup.of("g", backends(weights)).totalWeight()).isEqualTo(total);
    assertThat(new BackendGroup("g", backends(weights), total).totalWeight()).isEqualTo(total);
  }

  @ParameterizedTest(name = "weights [{0}] with total {1} is rejected")
  @CsvSource({
      "'',     1",
      "1,      0",
      "80 20,  99",
      "80 20,  101",
      "0 0,    1",
  })
  void totalWeightThatIsNotTheSumIsRejected(String weights, int wrongTotal) {
    assertThatThrownBy(() -> new BackendGroup("g", backends(weights), wrongTotal))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("totalWeight");
  }

  @Test
  void unavailableBackendsCountTowardsTheTotal() {
    BackendGroup group = BackendGroup.of("g", List.of(WeightedBackend.of("ok", 3, KEY),
        WeightedBackend.unavailable("bad", 1, 500, "Service default/missing not found")));
    assertThat(group.totalWeight()).isEqualTo(4);
  }

  @Test
  void backendsAreCopiedDefensively() {
    List<WeightedBackend> list = backends("1 2");
    BackendGroup group = BackendGroup.of("g", list);
    list.add(WeightedBackend.of("late", 5, KEY));
    assertThat(group.backends()).hasSize(2);
    assertThatThrownBy(() -> group.backends().add(WeightedBackend.of("x", 1, KEY)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @ParameterizedTest(name = "weight {0} is accepted")
  @ValueSource(ints = {0, 1, 100, 1_000_000})
  void nonNegativeWeightIsAccepted(int weight) {
    assertThat(WeightedBackend.of("b", weight, KEY).weight()).isEqualTo(weight);
  }

  @ParameterizedTest(name = "weight {0} is rejected")
  @ValueSource(ints = {-1, -100, Integer.MIN_VALUE})
  void negativeWeightIsRejected(int weight) {
    assertThatThrownBy(() -> WeightedBackend.of("b", weight, KEY))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> WeightedBackend.unavailable("b", weight, 500, "r"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "unavailable with status {0} is accepted")
  @ValueSource(ints = {400, 404, 500, 503})
  void unavailableBackendAnswersAnErrorStatus(int status) {
    WeightedBackend backend = WeightedBackend.unavailable("b", 1, status, "why");
    assertThat(backend.available()).isFalse();
    assertThat(backend.failureStatus()).isEqualTo(status);
    assertThat(backend.failureReason()).isEqualTo("why");
  }

  @ParameterizedTest(name = "unavailable with status {0} is rejected")
  @ValueSource(ints = {0, 200, 302, 399})
  void unavailableBackendWithoutErrorStatusIsRejected(int status) {
    assertThatThrownBy(() -> WeightedBackend.unavailable("b", 1, status, "why"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("failureStatus");
  }

  @Test
  void availableBackendHasAKeyNoStatusAndEmptyReason() {
    WeightedBackend backend = WeightedBackend.of("b", 1, KEY);
    assertThat(backend.available()).isTrue();
    assertThat(backend.failureStatus()).isZero();
    assertThat(backend.failureReason()).isEmpty();
  }

  @Test
  void nullFailureReasonBecomesEmpty() {
    assertThat(WeightedBackend.unavailable("b", 1, 500, null).failureReason()).isEmpty();
  }

  @Test
  void availableBackendRequiresKeyAndName() {
    assertThatThrownBy(() -> WeightedBackend.of("b", 1, null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> WeightedBackend.of(null, 1, KEY))
        .isInstanceOf(NullPointerException.class);
  }
}
