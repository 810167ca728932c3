package io.tokenbroker.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.owner.OwnerSession;
import io.tokenbroker.broker.store.JdbcDpopReplayCache;
import io.tokenbroker.broker.store.JdbcOwnerStore;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One run of {@code broker serve}'s minute-by-minute housekeeping ({@link BrokerApplication#maintain()}) on a real
 * H2 file seeded with rows on both sides of every retention: what has ended is deleted, what is still needed is
 * kept, so replay records, device authorizations, owner sessions and audit rows do not grow without bound.
 */
@SoftHsmTest
class MaintenanceTests {
  private static final Instant START = Instant.now();
  private static final Instant NOW = START.plus(Duration.ofDays(2));
  /** More than two of the purge's 5,000-row batches, so the batch loop has to go round. */
  private static final int OLD_AUDIT_ROWS = 12_000;

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(START);
  @TempDir Path dir;
  private InProcessBroker broker;

  MaintenanceTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "audit.retention=P1D\ndevice.authorization-retention=PT1H\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private void startDeviceAuthorization() {
    broker.deviceAuthorization().startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT).build());
  }

  private void session(Instant createdAt, Instant lastSeenAt) {
    broker.context().database().inTransaction(() -> {
      new JdbcOwnerStore(broker.context().database()).insertSession(new OwnerSession(
          UUID.randomUUID().toString().replace("-", "").repeat(2), null, "csrf", createdAt, lastSeenAt));
      return null;
    });
  }

  private void auditRows(int n, Instant occurredAt) {
    broker.context().database().inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_events (occurred_at, type, actor, outcome, "
          + "details) VALUES (?, 'seeded', 'test', 'success', '{}')")) {
        for (int i = 0; i < n; i++) {
          ps.setObject(1, OffsetDateTime.ofInstant(occurredAt, ZoneOffset.UTC));
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  /** Rows of {@code table} (optionally {@code WHERE where}, whose one parameter is {@code t}). */
  private int count(String table, String where, Instant t) {
    return broker.context().database().inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table
          + (where == null ? "" : " WHERE " + where))) {
        if (t != null) {
          ps.setObject(1, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
        }
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    });
  }

  @Test
  void maintainDeletesWhatEndedPastItsRetentionAndKeepsTheRest() {
    JdbcDpopReplayCache replay = new JdbcDpopReplayCache(broker.context().database());
    // Two days ago: a proof record, a device authorization, a session and a backlog of audit rows.
    assertThat(replay.firstUse("jkt-old", "jti-old", START.plus(Duration.ofMinutes(2)))).isTrue();
    startDeviceAuthorization();
    session(START, START);
    auditRows(OLD_AUDIT_ROWS, START);
    // A device authorization that expired 2 h before NOW (past device.authorization-retention PT1H, but within
    // the day that was hard-coded before) and one that expired 30 min before NOW (kept).
    clock.advance(Duration.between(START, NOW.minus(Duration.ofMinutes(130))));
    startDeviceAuthorization();
    clock.advance(Duration.ofMinutes(90));
    startDeviceAuthorization();
    clock.advance(Duration.ofMinutes(40));
    assertThat(clock.instant()).isEqualTo(NOW);
    // Now: a live proof record, a pending authorization, an active session, one idle past 15 min, fresh audit rows.
    assertThat(replay.firstUse("jkt-new", "jti-new", NOW.plus(Duration.ofMinutes(2)))).isTrue();
    startDeviceAuthorization();
    session(NOW.minus(Duration.ofMinutes(10)), NOW.minus(Duration.ofMinutes(5)));
    session(NOW.minus(Duration.ofMinutes(30)), NOW.minus(Duration.ofMinutes(20)));
    auditRows(10, NOW);
    Instant auditCutoff = NOW.minus(Duration.ofDays(1));
    int recentAudit = count("audit_events", "occurred_at >= ?", auditCutoff);

    assertThat(count("dpop_replay", null, null)).isEqualTo(2);
    assertThat(count("device_authorizations", null, null)).isEqualTo(4);
    assertThat(count("owner_sessions", null, null)).isEqualTo(3);
    assertThat(count("audit_events", "occurred_at < ?", auditCutoff)).isGreaterThan(OLD_AUDIT_ROWS);

    broker.application().maintain();

    assertThat(count("dpop_replay", null, null)).as("only the live proof record").isEqualTo(1);
    assertThat(count("dpop_replay", "expires_at < ?", NOW)).isZero();
    assertThat(count("device_authorizations", null, null)).as("the pending one and the one expired 30 min ago")
        .isEqualTo(2);
    assertThat(count("device_authorizations", "expires_at < ?", NOW.minus(Duration.ofHours(1)))).isZero();
    assertThat(count("owner_sessions", null, null)).as("only the active session").isEqualTo(1);
    assertThat(count("audit_events", "occurred_at < ?", auditCutoff)).as("older than P1D, all batches").isZero();
    assertThat(count("audit_events", "occurred_at >= ?", auditCutoff)).as("recent audit rows kept")
        .isGreaterThanOrEqualTo(recentAudit);
    assertThat(count("audit_events", "type = 'seeded' AND occurred_at >= ?", auditCutoff)).isEqualTo(10);
  }
}
