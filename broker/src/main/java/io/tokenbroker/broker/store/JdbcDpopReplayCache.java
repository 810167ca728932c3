package io.tokenbroker.broker.store;

import io.tokenbroker.broker.oauth.SecretHash;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;

/** {@link DpopReplayCache} in {@code dpop_replay}, shared by every broker on the database. */
public final class JdbcDpopReplayCache implements DpopReplayCache {
  private final Database db;

  public JdbcDpopReplayCache(Database db) {
    this.db = db;
  }

  @Override
  public boolean firstUse(String jkt, String jti, Instant keepUntil) {
    String key = SecretHash.sha256Hex(jkt + "\n" + jti);
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO dpop_replay (proof_hash, expires_at) VALUES (?, ?)")) {
        ps.setString(1, key);
        ps.setObject(2, Sql.ts(keepUntil));
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
  public int purgeExpired(Instant now) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("DELETE FROM dpop_replay WHERE expires_at < ?")) {
        ps.setObject(1, Sql.ts(now));
        return ps.executeUpdate();
      }
    });
  }
}
