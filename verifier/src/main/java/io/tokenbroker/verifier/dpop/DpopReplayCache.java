package io.tokenbroker.verifier.dpop;

import java.time.Instant;

/**
 * Port: proofs already seen (RFC 9449 §11.1). Shared by all broker replicas through the database, and bounded
 * in time: a record is needed only while its proof's {@code iat} is inside the acceptance window.
 */
public interface DpopReplayCache {
  /** Records the proof; false if the same key already used this {@code jti} (a replay). Joins the caller's transaction. */
  boolean firstUse(String jkt, String jti, Instant keepUntil);

  /** Deletes records whose window has passed; returns how many. */
  int purgeExpired(Instant now);
}
