package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SeederTest {
  @Test
  void spreadKeysIncreaseAndCoverTheKeySpace() {
    long n = 1000;
    long previous = 0;
    for (long k = 0; k < n; k++) {
      long v = Seeder.spread(k, n);
      if (k > 0) {
        assertThat(Long.compareUnsigned(v, previous)).as("key %d", k).isPositive();
      }
      previous = v;
    }
    // The last key lies in the top stride of the unsigned 64-bit space: hex keys start with 'f'.
    assertThat(String.format("%016x", previous)).startsWith("f");
    assertThat(String.format("%016x", Seeder.spread(0, n))).startsWith("00");
  }
}
