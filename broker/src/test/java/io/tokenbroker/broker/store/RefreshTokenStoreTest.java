package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.refresh.RefreshFamily;
import io.tokenbroker.broker.refresh.RefreshToken;
import io.tokenbroker.broker.refresh.RefreshTokenStore;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refresh-token store on a real H2 file: the one-read lookup the presigning of a refresh relies on, the
 * family lock, whose statement is kept open across transactions ({@link KeptStatements}), and the deletion of
 * spent tokens.
 */
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
    // A long lock timeout: the lock test's writer waits for the lock holder instead of giving up after H2's 2 s.
    db = Database.open("jdbc:h2:file:" + dir.resolve("state") + ";WRITE_DELAY=0;LOCK_TIMEOUT=30000", 2);
    store = new JdbcRefreshTokenStore(db);
    db.inTransaction(conn -> {
      StoreFixtures.clientAndDevice(conn, now);
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

  @Test
  void theKeptFamilyLockReadsCurrentRowsAndHoldsOffWritersInEveryTransaction() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(store.lockFamily("family-1").orElseThrow().state()).isEqualTo(RefreshFamily.State.ACTIVE);
    }
    // Both pool connections have served the lock; the statements stay with them, nothing else accumulates.
    assertThat(db.keptStatementConnections()).isBetween(1, 2);

    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<RefreshFamily> holder = threads.submit(() -> db.inTransaction(() -> {
        RefreshFamily family = store.lockFamily("family-1").orElseThrow();
        locked.countDown();
        await(release);
        return family;
      }));
      assertThat(locked.await(10, TimeUnit.SECONDS)).isTrue();
      Future<Boolean> revoker = threads.submit(() -> store.revokeFamily("family-1", now));
      // The revocation waits for the lock holder's commit (were the lock lost, it would be done by now).
      assertThatThrownBy(() -> revoker.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
      release.countDown();
      assertThat(holder.get(10, TimeUnit.SECONDS).state()).isEqualTo(RefreshFamily.State.ACTIVE);
      assertThat(revoker.get(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      release.countDown();
      threads.shutdownNow();
    }
    // The same kept statement sees the committed revocation: no stale result.
    RefreshFamily after = store.lockFamily("family-1").orElseThrow();
    assertThat(after.state()).isEqualTo(RefreshFamily.State.REVOKED);
    assertThat(after.revokedAt()).isEqualTo(now);
  }

  private void family(String familyId, RefreshFamily.State state) {
    store.insertFamily(new RefreshFamily(familyId, "device-1", "thermostat", Set.of("telemetry:write"),
        Set.of("https://telemetry.example"), "k".repeat(43), null, state, now.minus(Duration.ofDays(9)),
        now.plus(Duration.ofDays(10)), state == RefreshFamily.State.REVOKED ? now.minus(Duration.ofDays(4)) : null));
  }

  /** A token of {@code familyId} whose idle lifetime ended (or ends) {@code idleEnd} from now. */
  private String token(String familyId, int generation, RefreshToken.Status status, Duration idleEnd) {
    String hash = String.format("%-64s", familyId + "-" + generation).replace(' ', '0');
    Instant idleExpiry = now.plus(idleEnd);
    store.insertToken(new RefreshToken(hash, familyId, generation, status, idleExpiry.minus(Duration.ofDays(1)),
        idleExpiry, status == RefreshToken.Status.CONSUMED ? idleExpiry.minus(Duration.ofHours(1)) : null, null));
    return hash;
  }

  @Test
  void spentTokensPastTheCutoffAreDeletedButNeverAFamilysNewestNorAnActiveOneNorOneStillRecent() {
    Instant cutoff = now.minus(Duration.ofDays(1));
    family("family-2", RefreshFamily.State.ACTIVE);
    String consumedLongAgo = token("family-2", 1, RefreshToken.Status.CONSUMED, Duration.ofDays(-5));
    String revokedSuccessor = token("family-2", 2, RefreshToken.Status.REVOKED, Duration.ofDays(-4)); // grace retry
    String consumedPastCutoff = token("family-2", 3, RefreshToken.Status.CONSUMED, Duration.ofDays(-2));
    String consumedRecently = token("family-2", 4, RefreshToken.Status.CONSUMED, Duration.ofHours(-12));
    String active = token("family-2", 5, RefreshToken.Status.ACTIVE, Duration.ofHours(-1));
    family("family-3", RefreshFamily.State.REVOKED);
    String revokedFamilysOld = token("family-3", 1, RefreshToken.Status.CONSUMED, Duration.ofDays(-5));
    String revokedFamilysNewest = token("family-3", 2, RefreshToken.Status.REVOKED, Duration.ofDays(-4));

    assertThat(store.familyIdsAfter("", 2)).containsExactly("family-1", "family-2");
    assertThat(store.familyIdsAfter("family-2", 2)).containsExactly("family-3");
    assertThat(store.familyIdsAfter("family-3", 2)).isEmpty();

    assertThat(store.deleteSpentTokens(List.of("family-1", "family-2"), cutoff, 100)).isEqualTo(3);

    assertThat(store.findToken(consumedLongAgo)).isEmpty();
    assertThat(store.findToken(revokedSuccessor)).isEmpty();
    assertThat(store.findToken(consumedPastCutoff)).isEmpty();
    assertThat(store.findToken(consumedRecently)).as("its idle lifetime ended after the cutoff").isPresent();
    assertThat(store.findToken(active)).as("ACTIVE, and the family's newest, though idle-expired").isPresent();
    assertThat(store.findToken(HASH_1)).as("family-1's only token").isPresent();
    assertThat(store.findToken(revokedFamilysOld)).as("family-3 was not in the list").isPresent();
    assertThat(store.familiesOfDevice("device-1")).filteredOn(f -> f.family().familyId().equals("family-2"))
        .singleElement().extracting(RefreshTokenStore.FamilySummary::generations).isEqualTo(5);

    assertThat(store.deleteSpentTokens(List.of("family-3", "no-such-family"), cutoff, 100)).isEqualTo(1);

    assertThat(store.findToken(revokedFamilysOld)).isEmpty();
    assertThat(store.findToken(revokedFamilysNewest)).as("a family's newest token stays, whatever its age")
        .isPresent();
    assertThat(store.deleteSpentTokens(List.of("family-1", "family-2", "family-3"), cutoff, 100)).isZero();
  }

  @Test
  void aFamilysBacklogIsDeletedAtMostTheGivenNumberOfGenerationsAtATime() {
    family("family-4", RefreshFamily.State.ACTIVE);
    for (int generation = 1; generation <= 5; generation++) {
      token("family-4", generation, RefreshToken.Status.CONSUMED, Duration.ofDays(-10 + generation));
    }
    String active = token("family-4", 6, RefreshToken.Status.ACTIVE, Duration.ofHours(1));
    Instant cutoff = now.minus(Duration.ofDays(1));

    assertThat(store.deleteSpentTokens(List.of("family-4"), cutoff, 2)).isEqualTo(2);
    assertThat(store.findToken(String.format("%-64s", "family-4-2").replace(' ', '0'))).isEmpty();
    assertThat(store.findToken(String.format("%-64s", "family-4-3").replace(' ', '0'))).isPresent();
    assertThat(store.deleteSpentTokens(List.of("family-4"), cutoff, 2)).isEqualTo(2);
    assertThat(store.deleteSpentTokens(List.of("family-4"), cutoff, 2)).isEqualTo(1);
    assertThat(store.deleteSpentTokens(List.of("family-4"), cutoff, 2)).isZero();
    assertThat(store.findToken(active)).isPresent();
  }

  @Test
  void aFamilysOldestAndNewestGenerationAreReadInOneIndexStepHoweverLongTheFamily() {
    store.consume(HASH_1, now);
    for (int generation = 2; generation <= 2_000; generation++) {
      store.insertToken(new RefreshToken(String.format("%064d", generation), "family-1", generation,
          generation == 2_000 ? RefreshToken.Status.ACTIVE : RefreshToken.Status.CONSUMED, now,
          now.plus(Duration.ofDays(1)), null, null));
    }
    assertThat(store.familiesOfDevice("device-1")).singleElement()
        .extracting(RefreshTokenStore.FamilySummary::generations).isEqualTo(2_000);
    for (String sql : List.of(JdbcRefreshTokenStore.OLDEST_GENERATION, JdbcRefreshTokenStore.NEWEST_GENERATION,
        JdbcRefreshTokenStore.FAMILIES_OF_DEVICE)) {
      String plan = db.inTransaction(conn -> {
        try (PreparedStatement ps = conn.prepareStatement("EXPLAIN ANALYZE " + sql)) {
          ps.setString(1, sql.contains("device_id = ?") ? "device-1" : "family-1");
          try (java.sql.ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
          }
        }
      });
      assertThat(plan).as(sql).contains("scanCount: 1").contains("index sorted")
          .doesNotContainPattern("scanCount: \\d{3,}");
    }
    String deletePlan = db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("EXPLAIN " + JdbcRefreshTokenStore.SPENT_IN_RANGE);
          java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    });
    assertThat(deletePlan).as("the range delete walks the (family_id, generation) index")
        .containsPattern("REFRESH_TOKENS_GENERATION_INDEX_\\w+: FAMILY_ID = \\?1\\s+AND GENERATION >= \\?2");
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
