package io.tokenbroker.broker.audit;

import java.util.List;

/** Port: the append-only audit log. {@link #record} joins the caller's transaction. */
public interface AuditLog {
  void record(AuditEvent event);

  /** Events with id greater than {@code afterId}, oldest first, optionally of one type and one device. */
  List<AuditEvent> list(long afterId, String type, String deviceId, int limit);
}
