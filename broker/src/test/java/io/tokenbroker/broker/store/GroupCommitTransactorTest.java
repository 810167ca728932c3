package io.tokenbroker.broker.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit on a real H2 file: units share one commit, fail alone, and answer only after the commit. */
class GroupCommitTransactorTest {
  private static final int MAX_QUEUED = 4;
  @TempDir Path dir;
  private Database db;
  private GroupCommitTransactor grouped;
  private String url;

  @BeforeEach
  void open() {
    url = "jdbc:h2:file:" + dir.resolve("db") + ";WRITE_DELAY=0";
    db = Database.open(url, 4);
    db.inTransaction(c -> c.createStatement().executeUpdate("CREATE TABLE t (id INT PRIMARY KEY)"));
    grouped = new GroupCommitTransactor(db, 64, MAX_QUEUED);
  }

  @AfterEach
  void close() {
    grouped.close();
    db.close();
  }

  private int insert(int id) {
    return db.inTransaction(c -> c.createStatement().executeUpdate("INSERT INTO t (id) VALUES (" + id + ")"));
  }

  private List<Integer> rows() {
    return db.inTransaction(c -> {
      List<Integer> ids = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT id FROM t ORDER BY id")) {
        while (rs.next()) {
          ids.add(rs.getInt(1));
        }
      }
      return ids;
    });
  }

  @Test
  void unitsQueuedTogetherShareACommitAndAFailingUnitFailsAlone() throws Exception {
    CountDownLatch writerBusy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Integer> first = CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> {
      writerBusy.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return insert(0);
    }));
    assertThat(writerBusy.await(10, TimeUnit.SECONDS)).isTrue();
    // While the writer is busy these three queue up and run as one group.
    CompletableFuture<Integer> a = CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> insert(1)));
    Thread.sleep(100);
    CompletableFuture<Integer> duplicate = CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> {
      insert(2);
      return insert(1); // fails: its own insert of 2 must be undone too
    }));
    Thread.sleep(100);
    CompletableFuture<Integer> b = CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> insert(3)));
    Thread.sleep(100);
    release.countDown();

    assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(a.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(b.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(duplicate).failsWithin(10, TimeUnit.SECONDS);
    assertThat(rows()).containsExactly(0, 1, 3);
  }

  @Test
  void whenTheQueueIsFullANewUnitIsRefusedAtOnceAndWritesNothingWhileTheQueuedOnesCommit() throws Exception {
    CountDownLatch writerBusy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Integer> running = CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> {
      writerBusy.countDown();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return insert(100);
    }));
    assertThat(writerBusy.await(10, TimeUnit.SECONDS)).isTrue();
    List<CompletableFuture<Integer>> queued = new ArrayList<>();
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(MAX_QUEUED);
    for (int i = 0; i < MAX_QUEUED; i++) {
      int id = 101 + i;
      queued.add(CompletableFuture.supplyAsync(() -> grouped.inTransaction(() -> insert(id)), callers));
    }
    for (int i = 0; i < 500 && grouped.waiting() < MAX_QUEUED; i++) {
      Thread.sleep(10);
    }
    assertThat(grouped.waiting()).isEqualTo(MAX_QUEUED);

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> grouped.inTransaction(() -> insert(999)))
        .isInstanceOf(StoreOverloadedException.class)
        .hasMessageContaining(MAX_QUEUED + " requests are already waiting").hasMessageContaining("retry");

    release.countDown();
    assertThat(running.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    for (CompletableFuture<Integer> f : queued) {
      assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }
    callers.shutdown();
    assertThat(rows()).containsExactly(100, 101, 102, 103, 104);
    assertThat(grouped.inTransaction(() -> insert(5))).as("room again once the queue drained").isEqualTo(1);
  }

  @Test
  void aUnitAnswersOnlyAfterItsWritesAreCommittedAndVisibleToAnotherConnection() throws Exception {
    grouped.inTransaction(() -> insert(42));
    try (var other = DriverManager.getConnection(url);
        ResultSet rs = other.createStatement().executeQuery("SELECT COUNT(*) FROM t WHERE id = 42")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(1);
    }
  }

  @Test
  void aUnitInsideAnOpenTransactionJoinsIt() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> db.inTransaction(() -> {
      grouped.inTransaction(() -> insert(7));
      throw new IllegalStateException("roll everything back");
    })).isInstanceOf(IllegalStateException.class);
    assertThat(rows()).doesNotContain(7);
  }
}
