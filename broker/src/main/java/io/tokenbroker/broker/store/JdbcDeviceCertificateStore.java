package io.tokenbroker.broker.store;

import io.tokenbroker.broker.devicecert.DeviceCertificate;
import io.tokenbroker.broker.devicecert.DeviceCertificateStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link DeviceCertificateStore} in the {@code device_certificates} table (V6). */
public final class JdbcDeviceCertificateStore implements DeviceCertificateStore {
  private static final String COLUMNS = "serial, device_id, x5t_s256, not_before, not_after, issued_at, revoked_at";
  private final Database db;

  public JdbcDeviceCertificateStore(Database db) {
    this.db = db;
  }

  @Override
  public void insert(DeviceCertificate c) {
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO device_certificates (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, c.serial());
        ps.setString(2, c.deviceId());
        ps.setString(3, c.x5tS256());
        ps.setObject(4, Sql.ts(c.notBefore()));
        ps.setObject(5, Sql.ts(c.notAfter()));
        ps.setObject(6, Sql.ts(c.issuedAt()));
        ps.setObject(7, Sql.ts(c.revokedAt()));
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public Optional<DeviceCertificate> findBySerial(String serial) {
    return findOne("serial", serial);
  }

  @Override
  public Optional<DeviceCertificate> findByThumbprint(String x5tS256) {
    return findOne("x5t_s256", x5tS256);
  }

  private Optional<DeviceCertificate> findOne(String column, String value) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT " + COLUMNS + " FROM device_certificates WHERE " + column + " = ?")) {
        ps.setString(1, value);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(read(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<DeviceCertificate> revokeUnexpiredOfDevice(String deviceId, Instant now) {
    return db.inTransaction(conn -> {
      List<DeviceCertificate> revoked = new ArrayList<>();
      try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM device_certificates "
          + "WHERE device_id = ? AND revoked_at IS NULL AND not_after > ? ORDER BY serial FOR UPDATE")) {
        ps.setString(1, deviceId);
        ps.setObject(2, Sql.ts(now));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            revoked.add(read(rs));
          }
        }
      }
      try (PreparedStatement ps = conn.prepareStatement(
          "UPDATE device_certificates SET revoked_at = ? WHERE serial = ?")) {
        for (DeviceCertificate c : revoked) {
          ps.setObject(1, Sql.ts(now));
          ps.setString(2, c.serial());
          ps.executeUpdate();
        }
      }
      return revoked;
    });
  }

  @Override
  public List<String> unexpiredSerialsOfDevice(String deviceId, Instant now) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT serial FROM device_certificates "
          + "WHERE device_id = ? AND not_after > ? ORDER BY issued_at DESC, serial")) {
        ps.setString(1, deviceId);
        ps.setObject(2, Sql.ts(now));
        List<String> serials = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            serials.add(rs.getString(1));
          }
        }
        return serials;
      }
    });
  }

  private static DeviceCertificate read(ResultSet rs) throws SQLException {
    return new DeviceCertificate(rs.getString("serial"), rs.getString("device_id"), rs.getString("x5t_s256"),
        Sql.instant(rs, "not_before"), Sql.instant(rs, "not_after"), Sql.instant(rs, "issued_at"),
        Sql.instant(rs, "revoked_at"));
  }
}
