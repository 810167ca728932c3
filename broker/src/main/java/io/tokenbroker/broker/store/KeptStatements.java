package io.tokenbroker.broker.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prepared statements kept open on each database connection, for the hot statements the driver would parse
 * again on every prepare: H2 never puts a {@code SELECT ... FOR UPDATE} in its per-session query cache, and every
 * grant takes such row locks (parsing them was 8% of the grant writer's time, JFR via {@code bench/run broker
 * --jfr}). Other statements need no keeping: H2 caches them (QUERY_CACHE_SIZE).
 *
 * <p>A statement is prepared on the pool's physical connection (Hikari closes the statements it tracks each
 * time a connection goes back to the pool) and lives as long as that connection. A connection the pool closed
 * (retired or evicted) is forgotten when the next new connection is first seen, so the map holds at most the
 * pool's connections plus those closed since. An error from a kept statement does not pass through the pool's
 * proxy; the rollback that follows it does, so a connection the database dropped is still evicted.
 *
 * <p>Thread-safety: thread-safe; a connection, and so its statements, is used by one thread at a time (the
 * pool's contract).
 */
final class KeptStatements {
  private final Map<Connection, Map<String, PreparedStatement>> byConnection = new IdentityHashMap<>();

  /**
   * The open statement for {@code sql} on {@code connection}'s physical connection; the caller must not close it.
   * {@code sql} must be one of the caller's constants: each distinct text keeps a statement per connection.
   */
  PreparedStatement get(Connection connection, String sql) throws SQLException {
    Connection physical = connection.unwrap(Connection.class);
    Map<String, PreparedStatement> statements;
    synchronized (byConnection) {
      statements = byConnection.get(physical);
      if (statements == null) {
        byConnection.keySet().removeIf(KeptStatements::isClosed);
        statements = new ConcurrentHashMap<>();
        byConnection.put(physical, statements);
      }
    }
    PreparedStatement statement = statements.get(sql);
    if (statement == null || statement.isClosed()) {
      statement = physical.prepareStatement(sql);
      statements.put(sql, statement);
    }
    return statement;
  }

  /** Connections with statements kept (for tests). */
  int connections() {
    synchronized (byConnection) {
      return byConnection.size();
    }
  }

  private static boolean isClosed(Connection connection) {
    try {
      return connection.isClosed();
    } catch (SQLException e) {
      return true;
    }
  }
}
