package io.tokenbroker.broker.store;

import io.tokenbroker.broker.owner.OwnerAccount;
import io.tokenbroker.broker.owner.OwnerSession;
import io.tokenbroker.broker.owner.OwnerStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;

/** {@link OwnerStore} in {@code owners} and {@code owner_sessions}. */
public final class JdbcOwnerStore implements OwnerStore {
  private final Database db;

  public JdbcOwnerStore(Database db) {
    this.db = db;
  }

  @Override
  public boolean insertAccount(OwnerAccount a) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO owners (username, password_hash, created_at) VALUES (?, ?, ?)")) {
        ps.setString(1, a.username());
        ps.setString(2, a.passwordHash());
        ps.setObject(3, Sql.ts(a.createdAt()));
        ps.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (Sql.isUniqueViolation(e)) {
          return false;
        }
        throw e;
      }
    });
  }

  @Override
  public Optional<OwnerAccount> findAccount(String username) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT username, password_hash, created_at FROM owners WHERE username = ?")) {
        ps.setString(1, username);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(new OwnerAccount(rs.getString("username"), rs.getString("password_hash"),
              Sql.instant(rs, "created_at"))) : Optional.empty();
        }
      }
    });
  }

  @Override
  public void insertSession(OwnerSession s) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO owner_sessions (id_hash, username, csrf_token, "
          + "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, s.idHash());
        ps.setString(2, s.username());
        ps.setString(3, s.csrfToken());
        ps.setObject(4, Sql.ts(s.createdAt()));
        ps.setObject(5, Sql.ts(s.lastSeenAt()));
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public Optional<OwnerSession> findSession(String idHash) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT id_hash, username, csrf_token, created_at, "
          + "last_seen_at FROM owner_sessions WHERE id_hash = ?")) {
        ps.setString(1, idHash);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(new OwnerSession(rs.getString("id_hash"), rs.getString("username"),
              rs.getString("csrf_token"), Sql.instant(rs, "created_at"), Sql.instant(rs, "last_seen_at")))
              : Optional.empty();
        }
      }
    });
  }

  @Override
  public void touchSession(String idHash, Instant now) {
    update("UPDATE owner_sessions SET last_seen_at = ? WHERE id_hash = ?", Sql.ts(now), idHash);
  }

  @Override
  public void deleteSession(String idHash) {
    update("DELETE FROM owner_sessions WHERE id_hash = ?", idHash);
  }

  @Override
  public int purgeSessions(Instant idleBefore, Instant createdBefore) {
    return update("DELETE FROM owner_sessions WHERE last_seen_at < ? OR created_at < ?", Sql.ts(idleBefore),
        Sql.ts(createdBefore));
  }

  private int update(String sql, Object... args) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
      }
    });
  }
}
