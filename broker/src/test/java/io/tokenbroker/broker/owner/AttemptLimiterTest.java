package io.tokenbroker.broker.owner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AttemptLimiterTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");
  private final AttemptLimiter limiter = new AttemptLimiter(3, Duration.ofMinutes(15), 100);

  @Test
  void blockedWhenMaxFailuresWithinWindowUntilOldestLeavesIt() {
    limiter.recordFailure("a", T0);
    limiter.recordFailure("a", T0.plusSeconds(60));
    assertThat(limiter.blockedUntil("a", T0.plusSeconds(61))).isEmpty();

    limiter.recordFailure("a", T0.plusSeconds(120));

    assertThat(limiter.blockedUntil("a", T0.plusSeconds(121))).contains(T0.plus(Duration.ofMinutes(15)));
    assertThat(limiter.blockedUntil("a", T0.plus(Duration.ofMinutes(15)))).isEmpty();
  }

  @Test
  void keysAreCountedSeparately() {
    for (int i = 0; i < 3; i++) {
      limiter.recordFailure("a", T0);
    }
    assertThat(limiter.blockedUntil("a", T0)).isPresent();
    assertThat(limiter.blockedUntil("b", T0)).isEmpty();
  }

  @Test
  void failuresOutsideTheWindowAreForgotten() {
    limiter.recordFailure("a", T0);
    limiter.recordFailure("a", T0.plus(Duration.ofMinutes(10)));
    limiter.recordFailure("a", T0.plus(Duration.ofMinutes(16)));
    assertThat(limiter.blockedUntil("a", T0.plus(Duration.ofMinutes(16)))).isEmpty();
  }

  @Test
  void clearForgetsAKey() {
    for (int i = 0; i < 3; i++) {
      limiter.recordFailure("a", T0);
    }
    limiter.clear("a");
    assertThat(limiter.blockedUntil("a", T0)).isEmpty();
  }

  @Test
  void memoryIsBoundedByForgettingTheLeastRecentlyUsedKeys() {
    AttemptLimiter small = new AttemptLimiter(1, Duration.ofMinutes(15), 2);
    small.recordFailure("a", T0);
    small.recordFailure("b", T0);
    small.recordFailure("c", T0);
    assertThat(small.blockedUntil("a", T0)).isEmpty();
    assertThat(small.blockedUntil("c", T0)).isPresent();
  }

  @Test
  void refusesNonsenseSettings() {
    assertThatThrownBy(() -> new AttemptLimiter(0, Duration.ofMinutes(1), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new AttemptLimiter(1, Duration.ZERO, 1)).isInstanceOf(IllegalArgumentException.class);
  }
}
