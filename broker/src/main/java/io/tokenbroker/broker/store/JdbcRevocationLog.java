package io.tokenbroker.broker.store;

import io.tokenbroker.broker.revocation.RevocationEvent;
import io.tokenbroker.broker.revocation.RevocationLog;
import io.tokenbroker.broker.revocation.RevocationReason;
import io.tokenbroker.broker.revocation.SubjectKind;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@link RevocationLog} in {@code revocation_events}, ordered by a sequence lock. */
public final class JdbcRevocationLog implements RevocationLog {
  private static final String COLUMNS = "cursor_id, event_id, revoked_at, relevant_until, reason, subject_kind, "
      + "subject_value";
  private final Database db;

  public JdbcRevocationLog(Database db) {
    this.db = db;
  }

  @Override
  public RevocationEvent append(Instant revokedAt, Instant relevantUntil, RevocationReason reason, SubjectKind kind,
      String subject) {
    return db.inTransaction(conn -> {
      try (PreparedStatement lock = conn.prepareStatement("SELECT id FROM revocation_sequence WHERE id = 1 FOR UPDATE")) {
        lock.executeQuery().close();
      }
      String eventId = UUID.randomUUID().toString();
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO revocation_events (event_id, revoked_at, "
          + "relevant_until, reason, subject_kind, subject_value) VALUES (?, ?, ?, ?, ?, ?)",
          Statement.RETURN_GENERATED_KEYS)) {
        ps.setString(1, eventId);
        ps.setObject(2, Sql.ts(revokedAt));
        ps.setObject(3, Sql.ts(relevantUntil));
        ps.setString(4, reason.name());
        ps.setString(5, kind.name());
        ps.setString(6, subject);
        ps.executeUpdate();
        try (ResultSet keys = ps.getGeneratedKeys()) {
          keys.next();
          return new RevocationEvent(keys.getLong(1), eventId, revokedAt, relevantUntil, reason, kind, subject);
        }
      }
    });
  }

  @Override
  public List<RevocationEvent> after(long cursor, int limit) {
    return query("SELECT " + COLUMNS + " FROM revocation_events WHERE cursor_id > ? ORDER BY cursor_id "
        + "FETCH FIRST ? ROWS ONLY", cursor, null, limit);
  }

  @Override
  public List<RevocationEvent> relevantAfter(long cursor, Instant now, int limit) {
    return query("SELECT " + COLUMNS + " FROM revocation_events WHERE cursor_id > ? AND relevant_until > ? "
        + "ORDER BY cursor_id FETCH FIRST ? ROWS ONLY", cursor, now, limit);
  }

  private List<RevocationEvent> query(String sql, long cursor, Instant now, int limit) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        int i = 1;
        ps.setLong(i++, cursor);
        if (now != null) {
          ps.setObject(i++, Sql.ts(now));
        }
        ps.setInt(i, limit);
        try (ResultSet rs = ps.executeQuery()) {
          List<RevocationEvent> out = new ArrayList<>();
          while (rs.next()) {
            out.add(read(rs));
          }
          return out;
        }
      }
    });
  }

  @Override
  public long latestCursor() {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT COALESCE(MAX(cursor_id), 0) FROM revocation_events");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  @Override
  public boolean isRevoked(SubjectKind kind, String value) {
    return exists("SELECT 1 FROM revocation_events WHERE subject_kind = ? AND subject_value = ?", kind, value, null);
  }

  @Override
  public boolean revokedSince(SubjectKind kind, String value, Instant issuedAt) {
    return exists("SELECT 1 FROM revocation_events WHERE subject_kind = ? AND subject_value = ? AND revoked_at >= ?",
        kind, value, issuedAt);
  }

  private boolean exists(String sql, SubjectKind kind, String value, Instant at) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(sql + " FETCH FIRST 1 ROWS ONLY")) {
        ps.setString(1, kind.name());
        ps.setString(2, value);
        if (at != null) {
          ps.setObject(3, Sql.ts(at));
        }
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    });
  }

  private static RevocationEvent read(ResultSet rs) throws SQLException {
    return new RevocationEvent(rs.getLong("cursor_id"), rs.getString("event_id"), Sql.instant(rs, "revoked_at"),
        Sql.instant(rs, "relevant_until"), RevocationReason.valueOf(rs.getString("reason")),
        SubjectKind.valueOf(rs.getString("subject_kind")), rs.getString("subject_value"));
  }
}
