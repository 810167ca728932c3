package io.tokenbroker.agent.refresh;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Retry delays with exponential backoff and full jitter: attempt n waits a uniform random time in
 * [0, min(cap, initial * 2^n)], so a fleet that failed together does not retry together.
 */
public final class Backoff {
  private final Duration initial;
  private final RandomGenerator random;

  public Backoff(Duration initial, RandomGenerator random) {
    this.initial = initial;
    this.random = random;
  }

  /** The delay before retry number {@code attempt} (0-based), at most {@code cap}. */
  public Duration delay(int attempt, Duration cap) {
    long ceiling = initial.toMillis() << Math.min(attempt, 30);
    if (ceiling <= 0 || ceiling > cap.toMillis()) {
      ceiling = cap.toMillis();
    }
    return Duration.ofMillis(random.nextLong(ceiling + 1));
  }
}
