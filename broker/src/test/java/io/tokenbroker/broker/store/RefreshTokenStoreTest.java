package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.refresh.RefreshFamily;
import io.tokenbroker.broker.refresh.RefreshToken;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The refresh-token store on a real H2 file: the one-read lookup the presigning of a refresh relies on. */
class RefreshTokenStoreTest {
  private static final String HASH_1 = "1".repeat(64);
  private static final String HASH_2 = "2".repeat(64);
  private static final String OTHER_HASH = "3".repeat(64);

  @TempDir Path dir;
  private Database db;
  private JdbcRefreshTokenStore store;
  private final Instant now = Instant.parse("2026-12-03T00:00:00Z");

  @BeforeEach
  void open() {
    db = Database.open("jdbc:h2:file:" + dir.resolve("state") + ";WRITE_DELAY=0", 2);
    store = new JdbcRefreshTokenStore(db);
    db.inTransaction(conn -> {
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
      return null;
    });
    store.insertFamily(new RefreshFamily("family-1", "device-1", "thermostat", Set.of("telemetry:write"),
        Set.of("https://telemetry.example"), "k".repeat(43), null, RefreshFamily.State.ACTIVE, now,
        now.plus(Duration.ofDays(10)), null));
    store.insertToken(token(HASH_1, 1, null));
  }

  @AfterEach
  void close() {
    db.close();
  }

  private static RefreshToken token(String hash, int generation, String predecessor) {
    Instant issued = Instant.parse("2026-12-03T00:00:00Z");
    return new RefreshToken(hash, "family-1", generation, RefreshToken.Status.ACTIVE, issued,
        issued.plus(Duration.ofDays(1)), null, predecessor);
  }

  @Test
  void theFamilyOfAnActiveTokenIsFoundInOneReadAndOnlyWhileTheTokenIsActive() {
    RefreshFamily family = store.findFamilyOfActiveToken(HASH_1).orElseThrow();
    assertThat(family).isEqualTo(store.findFamily("family-1").orElseThrow());
    assertThat(family.deviceId()).isEqualTo("device-1");
    assertThat(family.scopes()).containsExactly("telemetry:write");

    // Rotated: the old token leads nowhere (a grace retry or a reuse is decided under the locks), the new one does.
    assertThat(store.consume(HASH_1, now)).isTrue();
    store.insertToken(token(HASH_2, 2, HASH_1));
    assertThat(store.findFamilyOfActiveToken(HASH_1)).isEmpty();
    assertThat(store.findFamilyOfActiveToken(HASH_2)).contains(family);
    assertThat(store.findFamilyOfActiveToken(OTHER_HASH)).isEmpty();

    // Revoking the family revokes its live token too.
    assertThat(store.revokeFamily("family-1", now)).isTrue();
    assertThat(store.findFamilyOfActiveToken(HASH_2)).isEmpty();
  }
}
