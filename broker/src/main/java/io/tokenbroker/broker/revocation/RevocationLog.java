package io.tokenbroker.broker.revocation;

import java.time.Instant;
import java.util.List;

/** Port: the durable, ordered log of revocations. */
public interface RevocationLog {
  /**
   * Appends an event in the caller's transaction. It first locks the log's sequence, so events commit in
   * cursor order and a reader that saw cursor N never later finds an event below N.
   */
  RevocationEvent append(Instant revokedAt, Instant relevantUntil, RevocationReason reason, SubjectKind kind,
      String subject);

  /** Events after {@code cursor}, in cursor order. */
  List<RevocationEvent> after(long cursor, int limit);

  /** Events after {@code cursor} still relevant at {@code now}, in cursor order: the snapshot, page by page. */
  List<RevocationEvent> relevantAfter(long cursor, Instant now, int limit);

  /** The highest cursor committed so far (0 when none). */
  long latestCursor();

  /** Whether {@code value} of {@code kind} was ever revoked (a revoked key stays refused). */
  boolean isRevoked(SubjectKind kind, String value);

  /** Whether an event for {@code value} of {@code kind} was committed at or after {@code issuedAt}. */
  boolean revokedSince(SubjectKind kind, String value, Instant issuedAt);
}
