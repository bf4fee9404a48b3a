package io.portico.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ObjectUidsTest {

  @Test
  void uidsAreDistinctVersionFourUuids() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      String uid = ObjectUids.next();
      UUID parsed = UUID.fromString(uid);
      assertThat(parsed.toString()).isEqualTo(uid);
      assertThat(parsed.version()).isEqualTo(4);
      assertThat(parsed.variant()).isEqualTo(2);
      assertThat(seen.add(uid)).as("uid %s given twice", uid).isTrue();
    }
  }
}
