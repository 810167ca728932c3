package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatenciesTest {
  @Test
  void nearestRankPercentilesOfOneToHundred() {
    long[] samples = new long[128];
    for (int i = 0; i < 100; i++) {
      samples[i] = 100 - i; // unsorted on purpose; the tail beyond count is ignored
    }
    samples[100] = 1_000_000;
    Latencies l = new Latencies(samples, 100);
    assertThat(l.count()).isEqualTo(100);
    assertThat(l.percentile(50)).isEqualTo(50);
    assertThat(l.percentile(95)).isEqualTo(95);
    assertThat(l.percentile(99)).isEqualTo(99);
    assertThat(l.percentile(99.9)).isEqualTo(100);
    assertThat(l.max()).isEqualTo(100);
  }

  @Test
  void singleSampleIsEveryPercentile() {
    Latencies l = new Latencies(new long[] {7}, 1);
    assertThat(l.percentile(1)).isEqualTo(7);
    assertThat(l.percentile(99)).isEqualTo(7);
  }

  @Test
  void noSamplesReportZero() {
    Latencies l = new Latencies(new long[0], 0);
    assertThat(l.percentile(99)).isZero();
    assertThat(l.toMillis()).containsEntry("p99_ms", 0.0);
  }
}
