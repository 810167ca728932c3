package io.tokenbroker.broker.store;

import io.tokenbroker.broker.device.Device;
import io.tokenbroker.broker.device.DeviceStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link DeviceStore} in the {@code devices} table. */
public final class JdbcDeviceStore implements DeviceStore {
  private static final String COLUMNS = "device_id, client_id, owner, state, jkt, x5t_s256, scopes, audiences, "
      + "created_at, last_seen_at, state_changed_at, state_reason, user_agent, last_refresh_at";
  private static final String LOCK = "SELECT " + COLUMNS + " FROM devices WHERE device_id = ? FOR UPDATE";
  private final Database db;

  public JdbcDeviceStore(Database db) {
    this.db = db;
  }

  @Override
  public void insert(Device d) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO devices (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, d.deviceId());
        ps.setString(2, d.clientId());
        ps.setString(3, d.owner());
        ps.setString(4, d.state().name());
        ps.setString(5, d.jkt());
        ps.setString(6, d.x5tS256());
        ps.setString(7, Sql.joined(d.scopes()));
        ps.setString(8, Sql.joined(d.audiences()));
        ps.setObject(9, Sql.ts(d.createdAt()));
        ps.setObject(10, Sql.ts(d.lastSeenAt()));
        ps.setObject(11, Sql.ts(d.stateChangedAt()));
        ps.setString(12, d.stateReason());
        ps.setString(13, d.userAgent());
        ps.setObject(14, Sql.ts(d.lastRefreshAt()));
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public java.util.Map<Device.State, Long> countByState() {
    return db.inTransaction(conn -> {
      // Answered from the devices_by_state index (V7), without reading the rows.
      try (PreparedStatement ps = conn.prepareStatement("SELECT state, COUNT(*) FROM devices GROUP BY state");
          ResultSet rs = ps.executeQuery()) {
        java.util.Map<Device.State, Long> counts = new java.util.EnumMap<>(Device.State.class);
        while (rs.next()) {
          counts.put(Device.State.valueOf(rs.getString(1)), rs.getLong(2));
        }
        return counts;
      }
    });
  }

  @Override
  public Optional<Device> find(String deviceId) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM devices WHERE device_id = ?")) {
        ps.setString(1, deviceId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(read(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<Device> list(String afterDeviceId, String clientId, Device.State state, String owner, Instant seenFrom,
      Instant seenUntil, int limit) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM devices WHERE device_id > ? "
          + "AND (CAST(? AS VARCHAR) IS NULL OR client_id = ?) AND (CAST(? AS VARCHAR) IS NULL OR state = ?) "
          + "AND (CAST(? AS VARCHAR) IS NULL OR owner = ?) AND last_seen_at >= ? AND last_seen_at < ? "
          + "ORDER BY device_id FETCH FIRST ? ROWS ONLY")) {
        ps.setString(1, afterDeviceId == null ? "" : afterDeviceId);
        ps.setString(2, clientId);
        ps.setString(3, clientId);
        ps.setString(4, state == null ? null : state.name());
        ps.setString(5, state == null ? null : state.name());
        ps.setString(6, owner);
        ps.setString(7, owner);
        ps.setObject(8, Sql.ts(seenFrom == null ? Instant.EPOCH : seenFrom));
        ps.setObject(9, Sql.ts(seenUntil == null ? Instant.parse("9999-01-01T00:00:00Z") : seenUntil));
        ps.setInt(10, limit);
        try (ResultSet rs = ps.executeQuery()) {
          List<Device> out = new ArrayList<>();
          while (rs.next()) {
            out.add(read(rs));
          }
          return out;
        }
      }
    });
  }

  @Override
  public void recordRefresh(String deviceId, Instant now, String userAgent) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("UPDATE devices SET last_seen_at = ?, last_refresh_at = ?, "
          + "user_agent = COALESCE(?, user_agent) WHERE device_id = ?")) {
        ps.setObject(1, Sql.ts(now));
        ps.setObject(2, Sql.ts(now));
        ps.setString(3, userAgent);
        ps.setString(4, deviceId);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void rebind(String deviceId, io.tokenbroker.broker.binding.TokenBinding binding) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE devices SET jkt = ?, x5t_s256 = ? WHERE device_id = ?")) {
        ps.setString(1, binding.jktOrNull());
        ps.setString(2, binding.x5tS256OrNull());
        ps.setString(3, deviceId);
        return ps.executeUpdate();
      }
    });
  }

  private static Device read(ResultSet rs) throws SQLException {
    return new Device(rs.getString("device_id"), rs.getString("client_id"), rs.getString("owner"),
        Device.State.valueOf(rs.getString("state")), rs.getString("jkt"), rs.getString("x5t_s256"),
        Sql.split(rs.getString("scopes")), Sql.split(rs.getString("audiences")), Sql.instant(rs, "created_at"),
        Sql.instant(rs, "last_seen_at"), Sql.instant(rs, "state_changed_at"), rs.getString("state_reason"),
        rs.getString("user_agent"), Sql.instant(rs, "last_refresh_at"));
  }

  @Override
  public Optional<Device> lock(String deviceId) {
    return db.inTransaction(conn -> {
      PreparedStatement ps = db.keptStatement(conn, LOCK);
      ps.setString(1, deviceId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    });
  }

  @Override
  public void setState(String deviceId, Device.State state, String reason, Instant now) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("UPDATE devices SET state = ?, state_reason = ?, "
          + "state_changed_at = ? WHERE device_id = ?")) {
        ps.setString(1, state.name());
        ps.setString(2, reason);
        ps.setObject(3, Sql.ts(now));
        ps.setString(4, deviceId);
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public List<String> unrevokedIdsOfClient(String clientId) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT device_id FROM devices WHERE client_id = ? "
          + "AND state <> 'REVOKED' ORDER BY device_id")) {
        ps.setString(1, clientId);
        try (ResultSet rs = ps.executeQuery()) {
          List<String> out = new ArrayList<>();
          while (rs.next()) {
            out.add(rs.getString(1));
          }
          return out;
        }
      }
    });
  }
}
