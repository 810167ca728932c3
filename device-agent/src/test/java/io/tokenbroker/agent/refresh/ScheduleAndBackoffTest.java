package io.tokenbroker.agent.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScheduleAndBackoffTest {
  @Test
  void refreshPointIsAroundThreeQuartersWithJitterThatSpreadsDevices() {
    RefreshSchedule schedule = new RefreshSchedule(0.75, 0.1, new Random(7));
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      Duration d = schedule.delayFor(Duration.ofSeconds(300));
      assertThat(d).isBetween(Duration.ofSeconds(195), Duration.ofSeconds(255));
      seen.add(d.toSeconds());
    }
    assertThat(seen).as("not all devices at the same second").hasSizeGreaterThan(30);
  }

  @Test
  void backoffGrowsExponentiallyWithFullJitterAndRespectsTheCap() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), new Random(3));
    long max0 = 0;
    long max6 = 0;
    long min6 = Long.MAX_VALUE;
    for (int i = 0; i < 500; i++) {
      max0 = Math.max(max0, backoff.delay(0, Duration.ofMinutes(5)).toMillis());
      long d6 = backoff.delay(6, Duration.ofMinutes(5)).toMillis();
      max6 = Math.max(max6, d6);
      min6 = Math.min(min6, d6);
      assertThat(backoff.delay(30, Duration.ofSeconds(15))).isLessThanOrEqualTo(Duration.ofSeconds(15));
    }
    assertThat(max0).isLessThanOrEqualTo(1000);
    assertThat(max6).isGreaterThan(32_000).isLessThanOrEqualTo(64_000);
    assertThat(min6).as("full jitter reaches down to zero").isLessThan(5_000);
  }
}
