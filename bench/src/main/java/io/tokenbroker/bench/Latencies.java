package io.tokenbroker.bench;

import java.util.Arrays;
import java.util.Map;

/**
 * Exact latency percentiles from all samples of a window: the samples are sorted, no histogram. At the rates
 * measured here (a few thousand per second for 20 s) that is well under a million longs, so HdrHistogram is
 * not needed and the figures carry no bucketing error.
 */
final class Latencies {
  private final long[] sorted;

  Latencies(long[] samplesNanos, int count) {
    sorted = Arrays.copyOf(samplesNanos, count);
    Arrays.sort(sorted);
  }

  int count() {
    return sorted.length;
  }

  /** Nearest-rank percentile (the smallest sample with at least p% of samples at or below it), in ns. */
  long percentile(double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
  }

  long max() {
    return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
  }

  double meanNanos() {
    if (sorted.length == 0) {
      return 0;
    }
    double sum = 0;
    for (long v : sorted) {
      sum += v;
    }
    return sum / sorted.length;
  }

  Map<String, Object> toMillis() {
    return Json.obj("p50_ms", ms(percentile(50)), "p95_ms", ms(percentile(95)), "p99_ms", ms(percentile(99)),
        "max_ms", ms(max()), "mean_ms", ms((long) meanNanos()));
  }

  /** Milliseconds, 0.01 ms resolution. */
  static double ms(long nanos) {
    return Math.round(nanos / 10_000.0) / 100.0;
  }
}
