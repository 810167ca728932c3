package io.tokenbroker.agent.refresh;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * When to refresh: at {@code fraction} of the access token's lifetime (from {@code expires_in}, measured on the
 * monotonic clock from when the response arrived), moved by a random jitter of up to {@code jitter} of the
 * lifetime either way, so that devices that started together drift apart.
 */
public final class RefreshSchedule {
  private final double fraction;
  private final double jitter;
  private final RandomGenerator random;

  public RefreshSchedule(double fraction, double jitter, RandomGenerator random) {
    this.fraction = fraction;
    this.jitter = jitter;
    this.random = random;
  }

  /** The delay after a successful refresh before the next one. */
  public Duration delayFor(Duration lifetime) {
    double offset = jitter == 0 ? 0 : (random.nextDouble() * 2 - 1) * jitter;
    double at = Math.max(0.01, Math.min(0.95, fraction + offset));
    return Duration.ofMillis(Math.max(500, (long) (lifetime.toMillis() * at)));
  }
}
