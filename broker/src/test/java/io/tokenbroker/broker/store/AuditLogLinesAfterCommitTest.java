package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.logging.LogFormat;
import io.tokenbroker.broker.logging.RequestIds;
import io.tokenbroker.broker.testing.CapturedLog;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Audit events reach the log only once their transaction has committed, on a real H2 file: never while it is
 * open, never after a rollback, and never for a grant unit rolled back to its savepoint inside a group commit.
 */
class AuditLogLinesAfterCommitTest {
  private static final Instant NOW = Instant.parse("2026-11-01T10:00:00Z");

  @TempDir Path dir;
  private Database db;
  private JdbcAuditLog audit;
  private GroupCommitTransactor grouped;
  private CapturedLog log;

  @BeforeEach
  void open() {
    db = Database.open("jdbc:h2:file:" + dir.resolve("audit") + ";WRITE_DELAY=0", 4);
    audit = new JdbcAuditLog(db);
    grouped = new GroupCommitTransactor(db, 64, 1024);
    log = CapturedLog.start(LogFormat.JSON);
  }

  @AfterEach
  void close() {
    log.close();
    grouped.close();
    db.close();
  }

  private static AuditEvent event(String type) {
    return AuditEvent.success(type, "test", NOW).client("c1").device("d1").build();
  }

  private List<String> auditTypes() {
    return CapturedLog.parseJsonLines(log.lines()).stream()
        .filter(l -> "tokenbroker.audit".equals(l.get("loggerName")))
        .map(l -> (String) l.get("formattedMessage")).toList();
  }

  private List<String> storedTypes() {
    return audit.list(0, null, null, null, null, 100).stream().map(AuditEvent::type).toList();
  }

  @Test
  void recordWhenTransactionCommitsThenOneLineAfterTheCommitNotBefore() {
    db.inTransaction(() -> {
      audit.record(event("first"));
      audit.record(event("second"));
      assertThat(auditTypes()).as("nothing logged while the transaction is open").isEmpty();
      return null;
    });
    assertThat(auditTypes()).containsExactly("audit first", "audit second");
    assertThat(storedTypes()).containsExactly("first", "second");
  }

  @Test
  void recordWhenTransactionRollsBackThenNoLineAndNoRow() {
    assertThatThrownBy(() -> db.inTransaction(() -> {
      audit.record(event("rolled_back"));
      throw new IllegalStateException("the use case failed after recording");
    })).isInstanceOf(IllegalStateException.class);
    audit.record(event("alone"));

    assertThat(storedTypes()).containsExactly("alone");
    assertThat(auditTypes()).containsExactly("audit alone");
  }

  @Test
  void groupCommitWhenAUnitFailsThenOnlyItsLineIsDroppedAndLinesKeepTheCallersRequestId() throws Exception {
    CompletableFuture<Void> failing = CompletableFuture.runAsync(() -> {
      try (RequestIds.Scope ignored = RequestIds.enter("req-failing")) {
        grouped.inTransaction(() -> {
          audit.record(event("unit_rolled_back"));
          throw new IllegalStateException("refused after recording");
        });
      }
    });
    assertThatThrownBy(() -> failing.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class);
    try (RequestIds.Scope ignored = RequestIds.enter("req-ok")) {
      grouped.inTransaction(() -> {
        audit.record(event("unit_committed"));
        return null;
      });
    }

    assertThat(storedTypes()).containsExactly("unit_committed");
    List<Map<String, Object>> lines = CapturedLog.parseJsonLines(log.lines()).stream()
        .filter(l -> "tokenbroker.audit".equals(l.get("loggerName"))).toList();
    assertThat(lines).singleElement().satisfies(line -> {
      assertThat(line).containsEntry("formattedMessage", "audit unit_committed")
          .containsEntry("mdc", Map.of("requestId", "req-ok"));
      // Written after the group's commit by the caller's own thread (the writer only writes the database).
      assertThat(line).containsEntry("threadName", Thread.currentThread().getName());
    });
  }
}
