package io.tokenbroker.broker.refresh;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Housekeeping for refresh tokens that can never be redeemed again. Rotation leaves one spent token behind per
 * refresh (a device refreshing every five minutes leaves about 100,000 a year), kept so that presenting one
 * again is recognised as reuse and revokes the family (RFC 9700 §4.14.2). A spent (CONSUMED or REVOKED) token
 * whose idle lifetime ended more than {@code refresh.spent-retention} ago is deleted: it could not be redeemed
 * even if it had never been rotated, and presenting it afterwards is refused as an unknown token (still
 * {@code invalid_grant}) instead of revoking the family. Each family's newest token is kept, whatever its age.
 *
 * <p>Each run visits at most {@code familiesPerRun} families in id order, a page per transaction, and the next
 * run goes on from there; after the last family the sweep starts over. Per family it looks at the
 * {@value #PER_FAMILY} oldest generations only, and it stops after the page in which {@code maxDeletesPerRun}
 * is reached, so neither the fleet's size nor a backlog (a first run after an upgrade) makes a run long: the
 * backlog drains over several sweeps. The position lives in memory only: after a restart the sweep starts from
 * the first family.
 *
 * <p>Thread-safety: thread-safe (runs are serialised).
 */
public final class SpentRefreshTokenPurge {
  /** Families per database transaction. */
  static final int PAGE = 100;
  /** Oldest generations of one family looked at per visit: a transaction deletes at most PAGE x PER_FAMILY. */
  static final int PER_FAMILY = 100;

  private final RefreshTokenStore store;
  private final Duration retention;
  private final Clock clock;
  private final int familiesPerRun;
  private final int maxDeletesPerRun;
  private String position = "";

  /**
   * @param retention how long after its idle lifetime ended a spent token is kept; zero keeps them forever
   * @param familiesPerRun families visited per {@link #run()} at most
   * @param maxDeletesPerRun a run stops after the page in which it reached this many deletions
   */
  public SpentRefreshTokenPurge(RefreshTokenStore store, Duration retention, Clock clock, int familiesPerRun,
      int maxDeletesPerRun) {
    if (retention.isNegative() || familiesPerRun < 1 || maxDeletesPerRun < 1) {
      throw new IllegalArgumentException("retention must not be negative, the bounds must be positive");
    }
    this.store = store;
    this.retention = retention;
    this.clock = clock;
    this.familiesPerRun = familiesPerRun;
    this.maxDeletesPerRun = maxDeletesPerRun;
  }

  /** One bounded step of the sweep; returns how many tokens it deleted. */
  public synchronized int run() {
    if (retention.isZero()) {
      return 0;
    }
    Instant idleEndedBefore = clock.instant().minus(retention);
    int deleted = 0;
    int visited = 0;
    while (visited < familiesPerRun && deleted < maxDeletesPerRun) {
      int asked = Math.min(PAGE, familiesPerRun - visited);
      List<String> families = store.familyIdsAfter(position, asked);
      if (!families.isEmpty()) {
        deleted += store.deleteSpentTokens(families, idleEndedBefore, PER_FAMILY);
        visited += families.size();
        position = families.get(families.size() - 1);
      }
      if (families.size() < asked) {
        position = ""; // past the last family: the next run starts over
        break;
      }
    }
    return deleted;
  }
}
