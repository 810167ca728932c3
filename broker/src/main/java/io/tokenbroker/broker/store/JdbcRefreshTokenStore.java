package io.tokenbroker.broker.store;

import io.tokenbroker.broker.refresh.RefreshFamily;
import io.tokenbroker.broker.refresh.RefreshToken;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link RefreshTokenStore} in {@code refresh_families} and {@code refresh_tokens}; lookups lock rows. */
public final class JdbcRefreshTokenStore implements RefreshTokenStore {
  private final Database db;

  public JdbcRefreshTokenStore(Database db) {
    this.db = db;
  }

  @Override
  public void insertFamily(RefreshFamily f) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO refresh_families (family_id, device_id, "
          + "client_id, scopes, audiences, jkt, x5t_s256, state, created_at, absolute_expires_at, revoked_at) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, f.familyId());
        ps.setString(2, f.deviceId());
        ps.setString(3, f.clientId());
        ps.setString(4, Sql.joined(f.scopes()));
        ps.setString(5, Sql.joined(f.audiences()));
        ps.setString(6, f.jkt());
        ps.setString(7, f.x5tS256());
        ps.setString(8, f.state().name());
        ps.setObject(9, Sql.ts(f.createdAt()));
        ps.setObject(10, Sql.ts(f.absoluteExpiresAt()));
        ps.setObject(11, Sql.ts(f.revokedAt()));
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void insertToken(RefreshToken t) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO refresh_tokens (token_hash, family_id, "
          + "generation, status, issued_at, idle_expires_at, consumed_at, predecessor_hash) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, t.tokenHash());
        ps.setString(2, t.familyId());
        ps.setInt(3, t.generation());
        ps.setString(4, t.status().name());
        ps.setObject(5, Sql.ts(t.issuedAt()));
        ps.setObject(6, Sql.ts(t.idleExpiresAt()));
        ps.setObject(7, Sql.ts(t.consumedAt()));
        ps.setString(8, t.predecessorHash());
        return ps.executeUpdate();
      }
    });
  }

  private static final String FAMILY_COLUMNS = "family_id, device_id, client_id, scopes, audiences, jkt, x5t_s256, "
      + "state, created_at, absolute_expires_at, revoked_at";
  private static final String FAMILY_BY_ID = "SELECT " + FAMILY_COLUMNS + " FROM refresh_families WHERE family_id = ?";
  private static final String FAMILY_LOCK = FAMILY_BY_ID + " FOR UPDATE";
  private static final String FAMILY_OF_ACTIVE_TOKEN = "SELECT f." + String.join(", f.", FAMILY_COLUMNS.split(", "))
      + " FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id"
      + " WHERE t.token_hash = ? AND t.status = 'ACTIVE'";
  private static final String TOKEN_COLUMNS = "token_hash, family_id, generation, status, issued_at, "
      + "idle_expires_at, consumed_at, predecessor_hash";

  @Override
  public Optional<RefreshToken> findToken(String tokenHash) {
    return oneToken("SELECT " + TOKEN_COLUMNS + " FROM refresh_tokens WHERE token_hash = ?", tokenHash);
  }

  @Override
  public Optional<RefreshToken> activeToken(String familyId) {
    return oneToken("SELECT " + TOKEN_COLUMNS + " FROM refresh_tokens WHERE family_id = ? AND status = 'ACTIVE'",
        familyId);
  }

  private Optional<RefreshToken> oneToken(String sql, String key) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        ps.setString(1, key);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          return Optional.of(new RefreshToken(rs.getString("token_hash"), rs.getString("family_id"),
              rs.getInt("generation"), RefreshToken.Status.valueOf(rs.getString("status")),
              Sql.instant(rs, "issued_at"), Sql.instant(rs, "idle_expires_at"), Sql.instant(rs, "consumed_at"),
              rs.getString("predecessor_hash")));
        }
      }
    });
  }

  @Override
  public Optional<RefreshFamily> findFamily(String familyId) {
    return oneFamily(FAMILY_BY_ID, familyId);
  }

  @Override
  public Optional<RefreshFamily> lockFamily(String familyId) {
    return db.inTransaction(conn -> oneFamily(db.keptStatement(conn, FAMILY_LOCK), familyId));
  }

  @Override
  public Optional<RefreshFamily> findFamilyOfActiveToken(String tokenHash) {
    return oneFamily(FAMILY_OF_ACTIVE_TOKEN, tokenHash);
  }

  private Optional<RefreshFamily> oneFamily(String sql, String key) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        return oneFamily(ps, key);
      }
    });
  }

  private static Optional<RefreshFamily> oneFamily(PreparedStatement ps, String key) throws SQLException {
    ps.setString(1, key);
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return Optional.empty();
      }
      return Optional.of(new RefreshFamily(rs.getString("family_id"), rs.getString("device_id"),
          rs.getString("client_id"), Sql.split(rs.getString("scopes")), Sql.split(rs.getString("audiences")),
          rs.getString("jkt"), rs.getString("x5t_s256"), RefreshFamily.State.valueOf(rs.getString("state")),
          Sql.instant(rs, "created_at"), Sql.instant(rs, "absolute_expires_at"), Sql.instant(rs, "revoked_at")));
    }
  }

  @Override
  public boolean consume(String tokenHash, Instant now) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("UPDATE refresh_tokens SET status = 'CONSUMED', "
          + "consumed_at = ? WHERE token_hash = ? AND status = 'ACTIVE'")) {
        ps.setObject(1, Sql.ts(now));
        ps.setString(2, tokenHash);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public void rebindFamily(String familyId, io.tokenbroker.broker.binding.TokenBinding binding) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE refresh_families SET jkt = ?, x5t_s256 = ? WHERE family_id = ?")) {
        ps.setString(1, binding.jktOrNull());
        ps.setString(2, binding.x5tS256OrNull());
        ps.setString(3, familyId);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void revokeToken(String tokenHash) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE refresh_tokens SET status = 'REVOKED' WHERE token_hash = ? AND status = 'ACTIVE'")) {
        ps.setString(1, tokenHash);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public boolean revokeFamily(String familyId, Instant now) {
    return db.inTransaction(conn -> {
      try (PreparedStatement family = conn.prepareStatement("UPDATE refresh_families SET state = 'REVOKED', "
              + "revoked_at = ? WHERE family_id = ? AND state = 'ACTIVE'");
          PreparedStatement tokens = conn.prepareStatement(
              "UPDATE refresh_tokens SET status = 'REVOKED' WHERE family_id = ? AND status = 'ACTIVE'")) {
        family.setObject(1, Sql.ts(now));
        family.setString(2, familyId);
        boolean changed = family.executeUpdate() == 1;
        tokens.setString(1, familyId);
        tokens.executeUpdate();
        return changed;
      }
    });
  }

  /** Each family's generation count is its newest generation, read in one step (as {@link #NEWEST_GENERATION}). */
  static final String FAMILIES_OF_DEVICE = "SELECT f.family_id, f.device_id, f.client_id, f.scopes, f.audiences, "
      + "f.jkt, f.x5t_s256, f.state, f.created_at, f.absolute_expires_at, f.revoked_at, "
      + "(SELECT t.generation FROM refresh_tokens t WHERE t.family_id = f.family_id "
      + "ORDER BY t.family_id DESC, t.generation DESC FETCH FIRST 1 ROW ONLY) AS generations "
      + "FROM refresh_families f WHERE f.device_id = ? ORDER BY f.created_at DESC";

  @Override
  public List<FamilySummary> familiesOfDevice(String deviceId) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(FAMILIES_OF_DEVICE)) {
        ps.setString(1, deviceId);
        try (ResultSet rs = ps.executeQuery()) {
          List<FamilySummary> out = new ArrayList<>();
          while (rs.next()) {
            out.add(new FamilySummary(new RefreshFamily(rs.getString("family_id"), rs.getString("device_id"),
                rs.getString("client_id"), Sql.split(rs.getString("scopes")), Sql.split(rs.getString("audiences")),
                rs.getString("jkt"), rs.getString("x5t_s256"), RefreshFamily.State.valueOf(rs.getString("state")),
                Sql.instant(rs, "created_at"), Sql.instant(rs, "absolute_expires_at"), Sql.instant(rs, "revoked_at")),
                rs.getInt("generations")));
          }
          return out;
        }
      }
    });
  }

  @Override
  public List<String> activeFamiliesOfDevice(String deviceId) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT family_id FROM refresh_families WHERE device_id = ? "
          + "AND state = 'ACTIVE' ORDER BY family_id")) {
        ps.setString(1, deviceId);
        return familyIds(ps);
      }
    });
  }

  @Override
  public List<String> familyIdsAfter(String after, int limit) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT family_id FROM refresh_families WHERE family_id > ? "
          + "ORDER BY family_id FETCH FIRST ? ROWS ONLY")) {
        ps.setString(1, after);
        ps.setInt(2, limit);
        return familyIds(ps);
      }
    });
  }

  private static List<String> familyIds(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  /** A family's first generation still stored: one step on the unique (family_id, generation) index. */
  static final String OLDEST_GENERATION = "SELECT generation FROM refresh_tokens WHERE family_id = ? "
      + "ORDER BY family_id, generation FETCH FIRST 1 ROW ONLY";
  /** A family's newest generation, the same index read backwards (MAX(generation) would read the whole family). */
  static final String NEWEST_GENERATION = "SELECT generation FROM refresh_tokens WHERE family_id = ? "
      + "ORDER BY family_id DESC, generation DESC FETCH FIRST 1 ROW ONLY";

  /** Spent tokens of a family in a range of generations, found by the same index (the range, not the family). */
  static final String SPENT_IN_RANGE = "DELETE FROM refresh_tokens WHERE family_id = ? AND generation >= ? "
      + "AND generation < ? AND status IN ('CONSUMED', 'REVOKED') AND idle_expires_at < ?";

  @Override
  public int deleteSpentTokens(List<String> familyIds, Instant idleEndedBefore, int maxPerFamily) {
    // Per family: its oldest and newest generation, each one step on the (family_id, generation) index (ordered
    // by both columns, H2 reads the index in order, either way, instead of scanning the family), then a range
    // delete of at most maxPerFamily generations. Spent tokens are the oldest ones, so the range is where they are.
    return db.inTransaction(conn -> {
      int deleted = 0;
      try (PreparedStatement oldest = conn.prepareStatement(OLDEST_GENERATION);
          PreparedStatement newest = conn.prepareStatement(NEWEST_GENERATION);
          PreparedStatement delete = conn.prepareStatement(SPENT_IN_RANGE)) {
        for (String familyId : familyIds) {
          Integer from = generation(oldest, familyId);
          Integer newestGeneration = generation(newest, familyId);
          if (from == null || newestGeneration == null) {
            continue;
          }
          delete.setString(1, familyId);
          delete.setInt(2, from);
          delete.setInt(3, (int) Math.min(newestGeneration, (long) from + maxPerFamily));
          delete.setObject(4, Sql.ts(idleEndedBefore));
          deleted += delete.executeUpdate();
        }
      }
      return deleted;
    });
  }

  private static Integer generation(PreparedStatement ps, String familyId) throws SQLException {
    ps.setString(1, familyId);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getInt(1) : null;
    }
  }
}
