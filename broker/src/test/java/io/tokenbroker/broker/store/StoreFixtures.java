package io.tokenbroker.broker.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;

/** Rows that store tests need before they can insert refresh families: a client and one of its devices. */
public final class StoreFixtures {
  private StoreFixtures() {}

  /** Client {@code thermostat} (DPoP, 1-day idle refresh lifetime) and its ACTIVE device {@code device-1}. */
  public static void clientAndDevice(Connection conn, Instant now) throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO clients (client_id, display_name, "
        + "allowed_scopes, allowed_audiences, binding_policy, access_token_ttl_s, refresh_idle_ttl_s, "
        + "refresh_absolute_ttl_s, refresh_grace_s, created_at) VALUES ('thermostat', 'Thermostat', "
        + "'telemetry:write', 'https://telemetry.example', 'DPOP', 300, 86400, 864000, 30, ?)")) {
      ps.setObject(1, Sql.ts(now));
      ps.executeUpdate();
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO devices (device_id, client_id, owner, state, "
        + "jkt, scopes, audiences, created_at, last_seen_at, state_changed_at) VALUES ('device-1', 'thermostat', "
        + "'alice', 'ACTIVE', ?, 'telemetry:write', 'https://telemetry.example', ?, ?, ?)")) {
      ps.setString(1, "k".repeat(43));
      for (int i = 2; i <= 4; i++) {
        ps.setObject(i, Sql.ts(now));
      }
      ps.executeUpdate();
    }
  }
}
