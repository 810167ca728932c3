package io.tokenbroker.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Bulk-loads devices with their refresh families into a stopped broker's H2 file, rows as the broker writes
 * them (V2 schema): one ACTIVE device of the existing client, one ACTIVE family bound to a random key
 * thumbprint, and one ACTIVE refresh token (random SHA-256 hex hash) per family. Batches commit every
 * {@value #BATCH} devices; loading stops early when the time budget is spent.
 */
final class Seeder {
  static final int BATCH = 10_000;
  private static final SecureRandom RANDOM = new SecureRandom();

  record Outcome(long requested, long seeded, double seconds, boolean budgetHit, long dbBytes) {
    double rowsPerSecond() {
      return seconds == 0 ? 0 : seeded / seconds;
    }
  }

  private Seeder() {}

  /**
   * The high 64 bits of the k-th of n keys: uniformly random over the whole key space (one random value in the
   * k-th of n equal strides), yet increasing with k. Random keys inserted in random order make every H2
   * (MVStore, copy-on-write) commit rewrite leaf pages all over each B-tree, which loads about 2,000 families/s
   * here; inserting them in key order appends at the right edge and is an order of magnitude faster. The
   * resulting trees hold the same keys (leaves fuller than after random inserts); the broker's own new rows
   * still land at random places.
   */
  static long spread(long k, long n) {
    long stride = Long.divideUnsigned(-1L, Math.max(1, n));
    long jitter = Long.remainderUnsigned(RANDOM.nextLong(), Math.max(1, stride));
    return k * stride + jitter;
  }

  static String jdbcUrl(Path home) {
    // A larger page cache for the bulk load only; the broker opens the file with its own URL.
    return "jdbc:h2:file:" + home.resolve("data/broker") + ";CACHE_SIZE=262144";
  }

  static Outcome seed(Path home, String clientId, long count, Duration budget, PrintStream log) throws SQLException {
    long t0 = System.nanoTime();
    long deadline = t0 + budget.toNanos();
    long seeded = 0;
    boolean budgetHit = false;
    try (Connection c = DriverManager.getConnection(jdbcUrl(home), "", "")) {
      c.setAutoCommit(false);
      String scopes;
      String audiences;
      long absoluteTtl;
      long idleTtl;
      try (PreparedStatement ps = c.prepareStatement("SELECT allowed_scopes, allowed_audiences, "
          + "refresh_absolute_ttl_s, refresh_idle_ttl_s FROM clients WHERE client_id = ?")) {
        ps.setString(1, clientId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new IllegalStateException("client " + clientId + " is not in the database");
          }
          scopes = rs.getString(1);
          audiences = rs.getString(2);
          absoluteTtl = rs.getLong(3);
          idleTtl = rs.getLong(4);
        }
      }
      OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC).withNano(0);
      OffsetDateTime created = now.minusDays(1);
      OffsetDateTime absolute = created.plusSeconds(absoluteTtl);
      OffsetDateTime idle = now.plusSeconds(idleTtl);
      try (PreparedStatement dev = c.prepareStatement("INSERT INTO devices (device_id, client_id, owner, state, jkt, "
              + "x5t_s256, scopes, audiences, created_at, last_seen_at, state_changed_at, state_reason) "
              + "VALUES (?, ?, 'seed', 'ACTIVE', ?, NULL, ?, ?, ?, ?, ?, NULL)");
           PreparedStatement fam = c.prepareStatement("INSERT INTO refresh_families (family_id, device_id, client_id, "
              + "scopes, audiences, jkt, x5t_s256, state, created_at, absolute_expires_at, revoked_at) "
              + "VALUES (?, ?, ?, ?, ?, ?, NULL, 'ACTIVE', ?, ?, NULL)");
           PreparedStatement tok = c.prepareStatement("INSERT INTO refresh_tokens (token_hash, family_id, generation, "
              + "status, issued_at, idle_expires_at, consumed_at) VALUES (?, ?, 1, 'ACTIVE', ?, ?, NULL)")) {
        byte[] buf = new byte[32];
        long nextReport = System.nanoTime() + 10_000_000_000L;
        while (seeded < count) {
          int n = (int) Math.min(BATCH, count - seeded);
          for (int i = 0; i < n; i++) {
            long k = seeded + i;
            String deviceId = new UUID(spread(k, count), RANDOM.nextLong()).toString();
            String familyId = new UUID(spread(k, count), RANDOM.nextLong()).toString();
            RANDOM.nextBytes(buf);
            String jkt = Base64.getUrlEncoder().withoutPadding().encodeToString(buf);
            RANDOM.nextBytes(buf);
            String tokenHash = String.format("%016x", spread(k, count)) + HexFormat.of().formatHex(buf, 0, 24);
            dev.setString(1, deviceId);
            dev.setString(2, clientId);
            dev.setString(3, jkt);
            dev.setString(4, scopes);
            dev.setString(5, audiences);
            dev.setObject(6, created);
            dev.setObject(7, created);
            dev.setObject(8, created);
            dev.addBatch();
            fam.setString(1, familyId);
            fam.setString(2, deviceId);
            fam.setString(3, clientId);
            fam.setString(4, scopes);
            fam.setString(5, audiences);
            fam.setString(6, jkt);
            fam.setObject(7, created);
            fam.setObject(8, absolute);
            fam.addBatch();
            tok.setString(1, tokenHash);
            tok.setString(2, familyId);
            tok.setObject(3, created);
            tok.setObject(4, idle);
            tok.addBatch();
          }
          dev.executeBatch();
          fam.executeBatch();
          tok.executeBatch();
          c.commit();
          seeded += n;
          long t = System.nanoTime();
          if (t > nextReport) {
            log.printf("  seeded %,d of %,d (%.0f/s)%n", seeded, count, seeded / ((t - t0) / 1e9));
            nextReport = t + 10_000_000_000L;
          }
          if (t > deadline && seeded < count) {
            budgetHit = true;
            break;
          }
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long bytes = 0;
    try {
      bytes = Files.size(home.resolve("data/broker.mv.db"));
    } catch (java.io.IOException ignored) {
      // size unknown
    }
    return new Outcome(count, seeded, seconds, budgetHit, bytes);
  }

  /** {@code Seeder HOME COUNT [BUDGET_SECONDS]}: seeds a stopped broker's home (for experiments by hand). */
  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]);
    long count = Long.parseLong(args[1]);
    Duration budget = Duration.ofSeconds(args.length > 2 ? Long.parseLong(args[2]) : 600);
    Outcome o = seed(home, "demo-device", count, budget, System.out);
    System.out.printf("seeded %,d of %,d in %.1f s (%.0f/s), file %.0f MiB%s%n", o.seeded(), o.requested(),
        o.seconds(), o.rowsPerSecond(), o.dbBytes() / 1048576.0, o.budgetHit() ? " (budget reached)" : "");
  }

  /** Counts rows (for the report: what the broker actually had in its store). */
  static long countFamilies(Path home) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbcUrl(home), "", "");
         Statement s = c.createStatement();
         ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM refresh_families")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
