package io.tokenbroker.broker.owner;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Counts failed attempts per key (a client address or an account) in a sliding window: after
 * {@code maxFailures} failures within {@code window}, the key is blocked until the oldest of them leaves the
 * window (RFC 8628 §5.1: "the authorization server should rate-limit user code attempts"). At most
 * {@code maxKeys} keys are tracked (least recently used forgotten first), so memory stays bounded.
 *
 * <p>State is in memory, per broker process: a restart forgets it. Thread-safety: thread-safe.
 */
public final class AttemptLimiter {
  private final int maxFailures;
  private final Duration window;
  private final Map<String, ArrayDeque<Instant>> failures;

  public AttemptLimiter(int maxFailures, Duration window, int maxKeys) {
    if (maxFailures < 1 || window.isNegative() || window.isZero() || maxKeys < 1) {
      throw new IllegalArgumentException("maxFailures, window and maxKeys must be positive");
    }
    this.maxFailures = maxFailures;
    this.window = window;
    this.failures = new LinkedHashMap<>(64, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, ArrayDeque<Instant>> eldest) {
        return size() > maxKeys;
      }
    };
  }

  /** When {@code key} may try again, if it is blocked at {@code now}. */
  public synchronized Optional<Instant> blockedUntil(String key, Instant now) {
    ArrayDeque<Instant> times = recent(key, now);
    if (times == null || times.size() < maxFailures) {
      return Optional.empty();
    }
    return Optional.of(times.peekFirst().plus(window));
  }

  /** Records one failed attempt of {@code key} at {@code now}. */
  public synchronized void recordFailure(String key, Instant now) {
    ArrayDeque<Instant> times = recent(key, now);
    if (times == null) {
      times = new ArrayDeque<>();
      failures.put(key, times);
    }
    times.addLast(now);
    while (times.size() > maxFailures) {
      times.removeFirst();
    }
  }

  /** Forgets the failures of {@code key} (after it succeeded). */
  public synchronized void clear(String key) {
    failures.remove(key);
  }

  private ArrayDeque<Instant> recent(String key, Instant now) {
    ArrayDeque<Instant> times = failures.get(key);
    if (times == null) {
      return null;
    }
    Instant horizon = now.minus(window);
    while (!times.isEmpty() && !times.peekFirst().isAfter(horizon)) {
      times.removeFirst();
    }
    if (times.isEmpty()) {
      failures.remove(key);
      return null;
    }
    return times;
  }
}
