package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Statements kept per connection on a real H2 file: reused while open, forgotten with their connection. */
class KeptStatementsTest {
  private static final String LOCK = "SELECT v FROM t WHERE id = ? FOR UPDATE";

  @TempDir Path dir;

  @Test
  void aStatementIsReusedOnItsConnectionAndForgottenOnceThatConnectionIsClosed() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("kept");
    KeptStatements kept = new KeptStatements();
    try (Connection first = DriverManager.getConnection(url)) {
      try (Statement ddl = first.createStatement()) {
        ddl.execute("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))");
        ddl.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
      }
      PreparedStatement statement = kept.get(first, LOCK);
      assertThat(kept.get(first, LOCK)).isSameAs(statement);
      assertThat(value(kept.get(first, LOCK), 1)).isEqualTo("one");
      assertThat(value(kept.get(first, LOCK), 2)).isEqualTo("two");

      // Closed by someone else (the driver, a pool): prepared again.
      statement.close();
      PreparedStatement again = kept.get(first, LOCK);
      assertThat(again).isNotSameAs(statement);
      assertThat(value(again, 1)).isEqualTo("one");
    }
    try (Connection second = DriverManager.getConnection(url)) {
      assertThat(value(kept.get(second, LOCK), 2)).isEqualTo("two");
      // The closed first connection and its statements are no longer held.
      assertThat(kept.connections()).isEqualTo(1);
    }
  }

  private static String value(PreparedStatement statement, int id) throws Exception {
    statement.setInt(1, id);
    try (ResultSet rs = statement.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
