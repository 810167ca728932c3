package io.tokenbroker.broker.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.Transactor;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The broker's database: a HikariCP pool over JDBC (H2 in a file by default), its schema brought up to date by
 * the Flyway migrations in {@code db/migration}, and one-transaction units of work.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Database implements AutoCloseable, Transactor {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private final HikariDataSource dataSource;
  /** The connection of the transaction this thread is in, if any; store calls join it. */
  private final ThreadLocal<Connection> current = new ThreadLocal<>();
  /** What runs once that transaction has committed (and never if it rolls back). */
  private final ThreadLocal<List<Runnable>> afterCommit = new ThreadLocal<>();
  private final KeptStatements kept = new KeptStatements();

  private Database(HikariDataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Opens the pool and migrates the schema.
   *
   * @throws BrokerFailure with a readable line when the database is locked by another process or broken
   */
  public static Database open(String jdbcUrl, int maxPoolSize) {
    return open(jdbcUrl, maxPoolSize, null);
  }

  /**
   * Opens the pool, reporting its use (active, idle and pending connections, wait times) to {@code metrics}
   * when given, and migrates the schema.
   */
  public static Database open(String jdbcUrl, int maxPoolSize, MeterRegistry metrics) {
    HikariConfig config = new HikariConfig();
    if (metrics != null) {
      config.setMetricRegistry(metrics);
    }
    config.setJdbcUrl(jdbcUrl);
    config.setMaximumPoolSize(maxPoolSize);
    config.setAutoCommit(false);
    config.setPoolName("tokenbroker-db");
    config.setInitializationFailTimeout(1);
    config.setExceptionOverride(new BrokenConnectionEviction());
    HikariDataSource dataSource;
    try {
      dataSource = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_DATABASE, describe(e, jdbcUrl), e);
    }
    try {
      Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
    } catch (FlywayException e) {
      dataSource.close();
      throw new BrokerFailure(BrokerFailure.EXIT_DATABASE,
          "cannot migrate the database schema at " + redact(jdbcUrl) + ": " + firstLine(e), e);
    }
    return new Database(dataSource);
  }

  private static String describe(Throwable e, String jdbcUrl) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(' ').append(t.getMessage());
    }
    String text = all.toString().toLowerCase(Locale.ROOT);
    if (text.contains("already in use") || text.contains("locked by another process")) {
      return "the database " + redact(jdbcUrl) + " is in use by another process (is 'broker serve' running "
          + "on this home?); stop it first";
    }
    return "cannot open the database " + redact(jdbcUrl) + ": " + firstLine(e);
  }

  /** The URL without its parameters, which may carry credentials. */
  private static String redact(String jdbcUrl) {
    int semi = jdbcUrl.indexOf(';');
    int query = jdbcUrl.indexOf('?');
    int cut = semi < 0 ? query : (query < 0 ? semi : Math.min(semi, query));
    return cut < 0 ? jdbcUrl : jdbcUrl.substring(0, cut);
  }

  private static String firstLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String m = String.valueOf(root.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** Work done on one connection inside one transaction. */
  @FunctionalInterface
  public interface TransactionalWork<T> {
    T run(Connection connection) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction and commits it before returning, so a caller that answers a request
   * afterwards answers only about durable state. Any exception rolls everything back. Inside a transaction
   * already open on this thread, {@code work} joins it.
   */
  public <T> T inTransaction(TransactionalWork<T> work) {
    Connection joined = current.get();
    if (joined != null) {
      try {
        return work.run(joined);
      } catch (SQLException e) {
        throw new StoreException("database operation failed: " + e.getMessage(), e);
      }
    }
    return inTransaction(() -> inTransaction(work));
  }

  @Override
  public <T> T inTransaction(Supplier<T> work) {
    if (current.get() != null) {
      return work.get();
    }
    T result;
    List<Runnable> committed;
    try (Connection connection = dataSource.getConnection()) {
      current.set(connection);
      afterCommit.set(new ArrayList<>());
      try {
        result = work.get();
        connection.commit();
        committed = afterCommit.get();
      } catch (RuntimeException | Error e) {
        rollbackQuietly(connection, e);
        throw e;
      } finally {
        current.remove();
        afterCommit.remove();
      }
    } catch (SQLException e) {
      throw new StoreException("database operation failed: " + e.getMessage(), e);
    }
    // Outside the transaction: an action that uses the database starts a transaction of its own.
    committed.forEach(Database::runQuietly);
    return result;
  }

  /**
   * Runs {@code action} once the transaction open on this thread has committed, before the committed work's caller
   * gets its result (on the committing thread, or on a {@link GroupCommitTransactor} unit's caller's thread),
   * with this thread's MDC (the request id) as it is now; never if the transaction rolls back. Outside a
   * transaction it runs at once. A failing action is logged and does not affect the committed transaction.
   */
  public void afterCommit(Runnable action) {
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    Runnable withMdc = () -> {
      Map<String, String> previous = MDC.getCopyOfContextMap();
      setMdc(mdc);
      try {
        action.run();
      } finally {
        setMdc(previous);
      }
    };
    List<Runnable> pending = afterCommit.get();
    if (pending == null) {
      runQuietly(withMdc);
    } else {
      pending.add(withMdc);
    }
  }

  /** How many after-commit actions this thread's transaction holds: a mark for {@link #discardAfterCommit}. */
  int afterCommitMark() {
    List<Runnable> pending = afterCommit.get();
    return pending == null ? 0 : pending.size();
  }

  /**
   * Removes and returns the actions registered since {@code mark}: their work was rolled back to a savepoint, or
   * they are handed to another thread that runs them once the transaction has committed.
   */
  List<Runnable> takeAfterCommit(int mark) {
    List<Runnable> pending = afterCommit.get();
    if (pending == null || pending.size() <= mark) {
      return List.of();
    }
    List<Runnable> since = pending.subList(mark, pending.size());
    List<Runnable> taken = List.copyOf(since);
    since.clear();
    return taken;
  }

  private static void setMdc(Map<String, String> mdc) {
    if (mdc == null) {
      MDC.clear();
    } else {
      MDC.setContextMap(mdc);
    }
  }

  static void runQuietly(Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      log.warn("an action after a commit failed: {}", e.getClass().getName());
    }
  }

  /**
   * A prepared statement for {@code sql} kept open on {@code connection} across transactions, for a hot row lock
   * ({@code SELECT ... FOR UPDATE}) that the driver would otherwise parse on every use (see {@link KeptStatements}).
   * The caller sets every parameter, closes its result set and never closes the statement.
   */
  PreparedStatement keptStatement(Connection connection, String sql) throws SQLException {
    return kept.get(connection, sql);
  }

  /** Connections with kept statements (for tests). */
  int keptStatementConnections() {
    return kept.connections();
  }

  /** The connection of the transaction open on this thread, or null. */
  Connection currentConnection() {
    return current.get();
  }

  private static void rollbackQuietly(Connection connection, Throwable cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  /**
   * Whether a pooled connection answers a query within {@code timeoutSeconds} (readiness). A pool that
   * cannot reach the database may block for its connection timeout; callers that must not wait run this on a
   * thread of their own.
   */
  public boolean isReachable(int timeoutSeconds) {
    // A real round trip: H2's remote Connection.isValid can answer true from client-side state alone.
    try (Connection connection = dataSource.getConnection();
        java.sql.Statement statement = connection.createStatement()) {
      statement.setQueryTimeout(timeoutSeconds);
      try (java.sql.ResultSet rs = statement.executeQuery("SELECT 1")) {
        return rs.next();
      } finally {
        connection.rollback();
      }
    } catch (SQLException | RuntimeException e) {
      return false; // a dropped connection has left the pool with the exception (BrokenConnectionEviction)
    }
  }

  /**
   * A connection the database server dropped (a restart, a network cut; H2 over TCP says 90067 "connection is
   * broken", JDBC drivers in general SQLNonTransientConnectionException or SQLState class 08) leaves the pool at
   * its first failure. Hikari would otherwise test it only after it sat idle, so a busy broker would keep
   * drawing it and failing long after the server is back.
   */
  private static final class BrokenConnectionEviction implements SQLExceptionOverride {
    @java.lang.Override // (SQLExceptionOverride.Override, the verdict, hides the annotation's simple name)
    public SQLExceptionOverride.Override adjudicate(SQLException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof SQLNonTransientConnectionException
            || (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08"))) {
          return SQLExceptionOverride.Override.MUST_EVICT;
        }
      }
      return SQLExceptionOverride.Override.CONTINUE_EVICT;
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
