package io.tokenbroker.broker.store;

import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ClientStore} in the {@code clients} table. */
public final class JdbcClientStore implements ClientStore {
  private static final String COLUMNS = "client_id, display_name, allowed_scopes, allowed_audiences, binding_policy, "
      + "access_token_ttl_s, refresh_idle_ttl_s, refresh_absolute_ttl_s, refresh_grace_s, created_at";
  private final Database db;

  public JdbcClientStore(Database db) {
    this.db = db;
  }

  @Override
  public boolean insert(Client c) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO clients (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, c.clientId());
        ps.setString(2, c.displayName());
        ps.setString(3, Sql.joined(c.allowedScopes()));
        ps.setString(4, Sql.joined(c.allowedAudiences()));
        ps.setString(5, c.bindingPolicy().name());
        ps.setInt(6, (int) c.accessTokenLifetime().toSeconds());
        ps.setInt(7, (int) c.refreshIdleLifetime().toSeconds());
        ps.setInt(8, (int) c.refreshAbsoluteLifetime().toSeconds());
        ps.setInt(9, (int) c.refreshGraceWindow().toSeconds());
        ps.setObject(10, Sql.ts(c.createdAt()));
        ps.executeUpdate();
        return true;
      } catch (SQLException e) {
        if (Sql.isUniqueViolation(e)) {
          return false;
        }
        throw e;
      }
    });
  }

  @Override
  public Optional<Client> find(String clientId) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS + " FROM clients WHERE client_id = ?")) {
        ps.setString(1, clientId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(read(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<Client> list(String afterClientId, int limit) {
    return db.inTransaction(conn -> {
      try (PreparedStatement ps = conn.prepareStatement("SELECT " + COLUMNS
          + " FROM clients WHERE client_id > ? ORDER BY client_id FETCH FIRST ? ROWS ONLY")) {
        ps.setString(1, afterClientId == null ? "" : afterClientId);
        ps.setInt(2, limit);
        try (ResultSet rs = ps.executeQuery()) {
          List<Client> out = new ArrayList<>();
          while (rs.next()) {
            out.add(read(rs));
          }
          return out;
        }
      }
    });
  }

  private static Client read(ResultSet rs) throws SQLException {
    return new Client(rs.getString("client_id"), rs.getString("display_name"),
        Sql.split(rs.getString("allowed_scopes")), Sql.split(rs.getString("allowed_audiences")),
        BindingPolicy.valueOf(rs.getString("binding_policy")), Sql.seconds(rs, "access_token_ttl_s"),
        Sql.seconds(rs, "refresh_idle_ttl_s"), Sql.seconds(rs, "refresh_absolute_ttl_s"),
        Sql.seconds(rs, "refresh_grace_s"), Sql.instant(rs, "created_at"));
  }
}
