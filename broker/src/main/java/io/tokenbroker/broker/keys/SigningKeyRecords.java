package io.tokenbroker.broker.keys;

import java.time.Instant;
import java.util.List;

/** Port: durable signing-key states. Each method is one transaction. */
public interface SigningKeyRecords {
  /** Every record, oldest first. */
  List<SigningKeyRecord> list();

  /** Records a newly generated key. */
  void insert(SigningKeyRecord record);

  /**
   * In one transaction: the current ACTIVE key becomes RETIRED at {@code now} and the NEXT key {@code kid}
   * becomes ACTIVE.
   *
   * @throws IllegalStateException when {@code kid} is not a NEXT key (nothing changes then)
   */
  void activate(String kid, Instant now);

  /**
   * Marks a RETIRED key REMOVED.
   *
   * @throws IllegalStateException when {@code kid} is not RETIRED (nothing changes then)
   */
  void markRemoved(String kid, Instant now);
}
