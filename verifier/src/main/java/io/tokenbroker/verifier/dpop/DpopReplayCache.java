package io.tokenbroker.verifier.dpop;

import java.time.Instant;

/**
 * Port: proofs already seen (RFC 9449 §11.1), keyed by (key thumbprint, {@code jti}), and bounded in time: a
 * record is needed only while its proof's {@code iat} is inside the acceptance window. The broker shares one
 * through its database; a verifier uses {@link InMemoryDpopReplayCache} or, when several replicas of a service sit
 * behind one URL, a shared implementation (RFC 9449 §11.1: replicas without shared state let replays through).
 *
 * <p>Thread-safety: implementations are thread-safe.
 */
public interface DpopReplayCache {
  /**
   * Records the proof; false if the same key already used this {@code jti} (a replay). The broker's store joins
   * the caller's transaction.
   */
  boolean firstUse(String jkt, String jti, Instant keepUntil);

  /** Deletes records whose window has passed; returns how many. */
  int purgeExpired(Instant now);
}
