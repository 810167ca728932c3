package io.tokenbroker.broker.audit;

import java.time.Instant;
import java.util.List;

/** Port: the append-only audit log. {@link #record} joins the caller's transaction. */
public interface AuditLog {
  void record(AuditEvent event);

  /**
   * Events with id greater than {@code afterId}, oldest first, optionally of one type, one device and a time
   * range ({@code from} inclusive, {@code until} exclusive; null = unbounded).
   */
  List<AuditEvent> list(long afterId, String type, String deviceId, Instant from, Instant until, int limit);

  /**
   * Deletes events that occurred before {@code cutoff}, at most {@code batch} per call (so the housekeeping never
   * holds a long transaction); returns how many went.
   */
  int purgeBefore(Instant cutoff, int batch);
}
