package io.tokenbroker.broker.store;

import io.tokenbroker.broker.device.DeviceAuthorization;
import io.tokenbroker.broker.device.DeviceAuthorizationStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/** {@link DeviceAuthorizationStore} in {@code device_authorizations}; lookups lock the row (FOR UPDATE). */
public final class JdbcDeviceAuthorizationStore implements DeviceAuthorizationStore {
  private static final String COLUMNS = "id, device_code_hash, user_code_hash, client_id, scopes, audiences, status, "
      + "created_at, expires_at, interval_s, last_polled_at, decided_at, owner, device_id";
  private static final String LOCK_BY_DEVICE_CODE = "SELECT " + COLUMNS
      + " FROM device_authorizations WHERE device_code_hash = ? FOR UPDATE";
  private static final String LOCK_BY_USER_CODE = "SELECT " + COLUMNS
      + " FROM device_authorizations WHERE user_code_hash = ? FOR UPDATE";
  private final Database db;

  public JdbcDeviceAuthorizationStore(Database db) {
    this.db = db;
  }

  @Override
  public void insert(DeviceAuthorization a) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO device_authorizations (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, a.id());
        ps.setString(2, a.deviceCodeHash());
        ps.setString(3, a.userCodeHash());
        ps.setString(4, a.clientId());
        bindMutable(ps, 5, a);
        return ps.executeUpdate();
      }
    });
  }

  /** Binds scopes .. device_id (columns 5-14 of the insert). */
  private static void bindMutable(PreparedStatement ps, int first, DeviceAuthorization a) throws SQLException {
    ps.setString(first, Sql.joined(a.scopes()));
    ps.setString(first + 1, Sql.joined(a.audiences()));
    ps.setString(first + 2, a.status().name());
    ps.setObject(first + 3, Sql.ts(a.createdAt()));
    ps.setObject(first + 4, Sql.ts(a.expiresAt()));
    ps.setInt(first + 5, (int) a.interval().toSeconds());
    ps.setObject(first + 6, Sql.ts(a.lastPolledAt()));
    ps.setObject(first + 7, Sql.ts(a.decidedAt()));
    ps.setString(first + 8, a.owner());
    ps.setString(first + 9, a.deviceId());
  }

  @Override
  public Optional<DeviceAuthorization> lockByDeviceCodeHash(String deviceCodeHash) {
    return lockBy(LOCK_BY_DEVICE_CODE, deviceCodeHash);
  }

  @Override
  public Optional<DeviceAuthorization> lockByUserCodeHash(String userCodeHash) {
    return lockBy(LOCK_BY_USER_CODE, userCodeHash);
  }

  private Optional<DeviceAuthorization> lockBy(String sql, String value) {
    return db.inTransaction(conn -> {
      PreparedStatement ps = db.keptStatement(conn, sql);
      ps.setString(1, value);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    });
  }

  @Override
  public void update(DeviceAuthorization a) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("UPDATE device_authorizations SET scopes = ?, audiences = ?, "
          + "status = ?, created_at = ?, expires_at = ?, interval_s = ?, last_polled_at = ?, decided_at = ?, owner = ?, "
          + "device_id = ? WHERE id = ?")) {
        bindMutable(ps, 1, a);
        ps.setString(11, a.id());
        if (ps.executeUpdate() != 1) {
          throw new IllegalStateException("device authorization " + a.id() + " vanished");
        }
        return null;
      }
    });
  }

  private static DeviceAuthorization read(ResultSet rs) throws SQLException {
    return new DeviceAuthorization(rs.getString("id"), rs.getString("device_code_hash"),
        rs.getString("user_code_hash"), rs.getString("client_id"), Sql.split(rs.getString("scopes")),
        Sql.split(rs.getString("audiences")), DeviceAuthorization.Status.valueOf(rs.getString("status")),
        Sql.instant(rs, "created_at"), Sql.instant(rs, "expires_at"), Duration.ofSeconds(rs.getInt("interval_s")),
        Sql.instant(rs, "last_polled_at"), Sql.instant(rs, "decided_at"), rs.getString("owner"),
        rs.getString("device_id"));
  }

  @Override
  public int purgeExpired(java.time.Instant before) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("DELETE FROM device_authorizations WHERE expires_at < ?")) {
        ps.setObject(1, Sql.ts(before));
        return ps.executeUpdate();
      }
    });
  }
}
