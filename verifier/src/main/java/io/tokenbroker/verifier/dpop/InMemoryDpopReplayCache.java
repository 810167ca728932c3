package io.tokenbroker.verifier.dpop;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A {@link DpopReplayCache} in this process's memory, bounded in time and in size: records are dropped once
 * their window has passed, and when {@code capacity} records are still inside their window a new proof is
 * refused rather than an old record forgotten (forgetting one would let its proof be replayed).
 *
 * <p>For one process only; replicas behind one URL need a shared store. Thread-safety: thread-safe.
 */
public final class InMemoryDpopReplayCache implements DpopReplayCache {
  private record Expiry(Instant keepUntil, String key) {}

  private final int capacity;
  private final Clock clock;
  private final Map<String, Instant> seen = new HashMap<>();
  private final PriorityQueue<Expiry> byExpiry = new PriorityQueue<>((a, b) -> a.keepUntil().compareTo(b.keepUntil()));

  /** @param capacity the most proofs kept at once (about 150 bytes each) */
  public InMemoryDpopReplayCache(int capacity, Clock clock) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.capacity = capacity;
    this.clock = clock;
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException if the cache is full of records still inside their window
   */
  @Override
  public synchronized boolean firstUse(String jkt, String jti, Instant keepUntil) {
    purgeExpired(clock.instant());
    String key = jkt + ' ' + jti;
    if (seen.containsKey(key)) {
      return false;
    }
    if (seen.size() >= capacity) {
      throw new IllegalStateException("the DPoP replay cache is full");
    }
    seen.put(key, keepUntil);
    byExpiry.add(new Expiry(keepUntil, key));
    return true;
  }

  @Override
  public synchronized int purgeExpired(Instant now) {
    int removed = 0;
    while (!byExpiry.isEmpty() && byExpiry.peek().keepUntil().isBefore(now)) {
      seen.remove(byExpiry.poll().key());
      removed++;
    }
    return removed;
  }

  /** How many proofs are remembered now. */
  public synchronized int size() {
    return seen.size();
  }
}
