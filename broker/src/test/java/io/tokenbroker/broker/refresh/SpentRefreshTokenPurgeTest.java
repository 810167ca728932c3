package io.tokenbroker.broker.refresh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.store.Database;
import io.tokenbroker.broker.store.JdbcRefreshTokenStore;
import io.tokenbroker.broker.store.StoreFixtures;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep over all families on a real H2 file: each run does a bounded slice, the next goes on where it
 * stopped, and after the last family it starts over, so every family is reached however large the fleet.
 */
class SpentRefreshTokenPurgeTest {
  private static final Instant NOW = Instant.parse("2026-12-03T12:00:00Z");
  /** Not a multiple of the page or of the run size, so the last page of a sweep is a short one. */
  private static final int FAMILIES = 1_234;

  @TempDir Path dir;
  private Database db;
  private JdbcRefreshTokenStore store;

  @BeforeEach
  void open() {
    db = Database.open("jdbc:h2:file:" + dir.resolve("state") + ";WRITE_DELAY=0", 2);
    store = new JdbcRefreshTokenStore(db);
    db.inTransaction(conn -> {
      StoreFixtures.clientAndDevice(conn, NOW.minus(Duration.ofDays(30)));
      // Every family: generation 1 consumed, its idle lifetime over 10 days ago; generation 2 live.
      try (PreparedStatement family = conn.prepareStatement("INSERT INTO refresh_families (family_id, device_id, "
              + "client_id, scopes, audiences, jkt, state, created_at, absolute_expires_at) VALUES (?, 'device-1', "
              + "'thermostat', 'telemetry:write', 'https://telemetry.example', ?, 'ACTIVE', ?, ?)");
          PreparedStatement token = conn.prepareStatement("INSERT INTO refresh_tokens (token_hash, family_id, "
              + "generation, status, issued_at, idle_expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        for (int i = 0; i < FAMILIES; i++) {
          String familyId = String.format("family-%05d", i);
          family.setString(1, familyId);
          family.setString(2, "k".repeat(43));
          family.setObject(3, ts(NOW.minus(Duration.ofDays(20))));
          family.setObject(4, ts(NOW.plus(Duration.ofDays(70))));
          family.addBatch();
          for (int generation = 1; generation <= 2; generation++) {
            boolean spent = generation == 1;
            token.setString(1, String.format("%064x", i * 2L + generation));
            token.setString(2, familyId);
            token.setInt(3, generation);
            token.setString(4, spent ? "CONSUMED" : "ACTIVE");
            token.setObject(5, ts(NOW.minus(Duration.ofDays(spent ? 12 : 1))));
            token.setObject(6, ts(NOW.minus(Duration.ofDays(spent ? 11 : 0)).plus(Duration.ofHours(12))));
            token.setObject(7, spent ? ts(NOW.minus(Duration.ofDays(11))) : null);
            token.addBatch();
          }
        }
        family.executeBatch();
        token.executeBatch();
      }
      return null;
    });
  }

  @AfterEach
  void close() {
    db.close();
  }

  private static OffsetDateTime ts(Instant t) {
    return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
  }

  private int tokens(String status) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT COUNT(*) FROM refresh_tokens WHERE status = ?")) {
        ps.setString(1, status);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    });
  }

  private SpentRefreshTokenPurge purge(Duration retention, int familiesPerRun) {
    return purge(retention, familiesPerRun, 1_000_000);
  }

  private SpentRefreshTokenPurge purge(Duration retention, int familiesPerRun, int maxDeletesPerRun) {
    return new SpentRefreshTokenPurge(store, retention, Clock.fixed(NOW, ZoneOffset.UTC), familiesPerRun,
        maxDeletesPerRun);
  }

  @Test
  void eachRunDeletesFromABoundedSliceAndTheSweepGoesOnWhereItStoppedThenStartsOver() {
    SpentRefreshTokenPurge purge = purge(Duration.ofDays(7), 600);

    assertThat(purge.run()).as("families 0-599, in six pages").isEqualTo(600);
    assertThat(tokens("CONSUMED")).isEqualTo(FAMILIES - 600);
    assertThat(purge.run()).as("families 600-1199").isEqualTo(600);
    assertThat(purge.run()).as("the last 34, then the end of the sweep").isEqualTo(FAMILIES - 1_200);
    assertThat(tokens("CONSUMED")).isZero();
    assertThat(tokens("ACTIVE")).as("every live token stays").isEqualTo(FAMILIES);

    // A token spent since: the sweep starts over from the first family and finds it.
    db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO refresh_tokens (token_hash, family_id, "
          + "generation, status, issued_at, idle_expires_at) VALUES (?, 'family-00000', 0, 'REVOKED', ?, ?)")) {
        ps.setString(1, "f".repeat(64));
        ps.setObject(2, ts(NOW.minus(Duration.ofDays(30))));
        ps.setObject(3, ts(NOW.minus(Duration.ofDays(29))));
        return ps.executeUpdate();
      }
    });
    assertThat(purge.run()).isEqualTo(1);
    assertThat(store.findToken("f".repeat(64))).isEmpty();
  }

  @Test
  void aRunStopsAfterThePageInWhichItReachedItsDeletionBudgetAndTheNextGoesOnFromThere() {
    SpentRefreshTokenPurge purge = purge(Duration.ofDays(7), 5_000, 250);

    assertThat(purge.run()).as("three pages of 100 families").isEqualTo(300);
    assertThat(store.findToken(String.format("%064x", 299 * 2L + 1))).isEmpty();
    assertThat(store.findToken(String.format("%064x", 300 * 2L + 1))).isPresent();
    assertThat(purge.run()).isEqualTo(300);
    assertThat(store.findToken(String.format("%064x", 300 * 2L + 1))).isEmpty();
    assertThat(tokens("CONSUMED")).isEqualTo(FAMILIES - 600);
  }

  @Test
  void tokensWithinTheRetentionStayAndZeroRetentionKeepsEverything() {
    assertThat(purge(Duration.ofDays(12), 5_000).run()).as("idle lifetime ended 10.5 days ago").isZero();
    assertThat(purge(Duration.ZERO, 5_000).run()).isZero();
    assertThat(tokens("CONSUMED")).isEqualTo(FAMILIES);

    assertThat(purge(Duration.ofDays(10), 5_000).run()).isEqualTo(FAMILIES);
  }

  @Test
  void aNegativeRetentionOrAnEmptyBoundIsRefused() {
    assertThatThrownBy(() -> purge(Duration.ofDays(-1), 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> purge(Duration.ofDays(1), 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> purge(Duration.ofDays(1), 10, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
