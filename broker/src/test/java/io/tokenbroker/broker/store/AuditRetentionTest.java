package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.audit.AuditEvent;
import io.tokenbroker.broker.config.BrokerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Old audit rows do not pile up forever: the housekeeping deletes those past {@code audit.retention}, in batches. */
class AuditRetentionTest {
  @TempDir Path dir;
  private Database db;
  private JdbcAuditLog audit;
  private final Instant now = Instant.parse("2026-11-01T00:00:00Z");

  @BeforeEach
  void open() {
    db = Database.open("jdbc:h2:file:" + dir.resolve("audit") + ";WRITE_DELAY=0", 2);
    audit = new JdbcAuditLog(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  @Test
  void purgeBeforeDeletesOnlyEventsOlderThanTheCutoffAndAtMostOneBatch() {
    for (int i = 0; i < 5; i++) {
      audit.record(AuditEvent.success("old_event", "test", now.minus(Duration.ofDays(500 + i))).build());
    }
    audit.record(AuditEvent.success("recent_event", "test", now.minus(Duration.ofDays(10))).build());

    Instant cutoff = now.minus(Duration.ofDays(400));
    assertThat(audit.purgeBefore(cutoff, 3)).isEqualTo(3);
    assertThat(audit.purgeBefore(cutoff, 3)).isEqualTo(2);
    assertThat(audit.purgeBefore(cutoff, 3)).isZero();

    assertThat(audit.list(0, null, null, null, null, 100)).extracting(AuditEvent::type)
        .containsExactly("recent_event");
  }

  @Test
  void retentionDefaultsToAboutThirteenMonthsAndRefusesLessThanADayExceptForever(@TempDir Path home)
      throws Exception {
    Files.writeString(home.resolve(BrokerConfig.FILE_NAME), "");
    assertThat(BrokerConfig.load(home).auditRetention()).isEqualTo(Duration.ofDays(400));
    Files.writeString(home.resolve(BrokerConfig.FILE_NAME), "audit.retention=PT0S\n");
    assertThat(BrokerConfig.load(home).auditRetention()).isZero();
    Files.writeString(home.resolve(BrokerConfig.FILE_NAME), "audit.retention=PT1H\n");
    assertThatThrownBy(() -> BrokerConfig.load(home)).isInstanceOf(BrokerFailure.class)
        .hasMessageContaining("'audit.retention' must be PT0S (keep forever) or at least one day");
  }
}
