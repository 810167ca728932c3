package io.tokenbroker.broker.store;

import io.tokenbroker.broker.keys.KeyState;
import io.tokenbroker.broker.keys.SigningAlgorithm;
import io.tokenbroker.broker.keys.SigningKeyRecord;
import io.tokenbroker.broker.keys.SigningKeyRecords;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** {@link SigningKeyRecords} in the {@code signing_keys} table. Portable SQL (H2, PostgreSQL). */
public final class JdbcSigningKeyRecords implements SigningKeyRecords {
  private final Database database;

  public JdbcSigningKeyRecords(Database database) {
    this.database = database;
  }

  @Override
  public List<SigningKeyRecord> list() {
    return database.inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT kid, algorithm, state, public_jwk, created_at, activated_at, retired_at, removed_at "
              + "FROM signing_keys ORDER BY created_at, kid");
          ResultSet rs = ps.executeQuery()) {
        List<SigningKeyRecord> out = new ArrayList<>();
        while (rs.next()) {
          out.add(new SigningKeyRecord(rs.getString(1), SigningAlgorithm.valueOf(rs.getString(2)),
              KeyState.valueOf(rs.getString(3)), rs.getString(4), Sql.instant(rs, "created_at"), Sql.instant(rs, "activated_at"),
              Sql.instant(rs, "retired_at"), Sql.instant(rs, "removed_at")));
        }
        return out;
      }
    });
  }

  @Override
  public void insert(SigningKeyRecord r) {
    database.inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO signing_keys (kid, algorithm, state, public_jwk, created_at, activated_at, retired_at, "
              + "removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, r.kid());
        ps.setString(2, r.algorithm().name());
        ps.setString(3, r.state().name());
        ps.setString(4, r.publicJwkJson());
        ps.setObject(5, Sql.ts(r.createdAt()));
        ps.setObject(6, Sql.ts(r.activatedAt()));
        ps.setObject(7, Sql.ts(r.retiredAt()));
        ps.setObject(8, Sql.ts(r.removedAt()));
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void activate(String kid, Instant now) {
    database.inTransaction(c -> {
      try (PreparedStatement activate = c.prepareStatement(
              "UPDATE signing_keys SET state = 'ACTIVE', activated_at = ? WHERE kid = ? AND state = 'NEXT'");
          PreparedStatement retire = c.prepareStatement(
              "UPDATE signing_keys SET state = 'RETIRED', retired_at = ? WHERE state = 'ACTIVE' AND kid <> ?")) {
        activate.setObject(1, Sql.ts(now));
        activate.setString(2, kid);
        if (activate.executeUpdate() != 1) {
          throw new IllegalStateException("signing key " + kid + " is not NEXT");
        }
        retire.setObject(1, Sql.ts(now));
        retire.setString(2, kid);
        retire.executeUpdate();
        return null;
      }
    });
  }

  @Override
  public void markRemoved(String kid, Instant now) {
    database.inTransaction(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE signing_keys SET state = 'REMOVED', removed_at = ? WHERE kid = ? AND state = 'RETIRED'")) {
        ps.setObject(1, Sql.ts(now));
        ps.setString(2, kid);
        if (ps.executeUpdate() != 1) {
          throw new IllegalStateException("signing key " + kid + " is not RETIRED");
        }
        return null;
      }
    });
  }
}
