package io.tokenbroker.broker.store;

import io.tokenbroker.broker.Transactor;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Group commit for the grants: units of work submitted by many request threads run one after another on a
 * single writer thread inside one database transaction, each under its own savepoint, and that transaction
 * commits once for the whole group. Every caller gets its answer only after that commit, so the durability
 * promise is the same as one transaction per grant, but the database writes (H2 writes a chunk per commit,
 * DESIGN.md: state) are shared by the group.
 *
 * <p>A unit that fails rolls back to its savepoint and fails alone. If the group as a whole fails (a deadlock
 * with another transaction, a failed commit), every unit of it runs again in a transaction of its own, exactly
 * as without grouping. Batches form naturally: the writer takes whatever is queued, up to {@code maxBatch};
 * there is no waiting for company.
 *
 * <p>Each unit runs with its caller's MDC (the request id), so its log lines and the audit lines written after
 * the commit name the request they belong to. A unit's after-commit actions ({@link Database#afterCommit}) run on
 * its caller's thread once the group has committed, so the writer only writes; a unit rolled back to its
 * savepoint drops them with its writes.
 *
 * <p>The queue is bounded: when {@code maxQueued} units are already waiting, a new one is refused at once with
 * {@link StoreOverloadedException} (the caller answers {@code UNAVAILABLE}, retry later) rather than adding to a
 * backlog that could only make every waiting caller later. Each waiting unit is a blocked request thread, so in
 * the running broker the gRPC call pool bounds the queue first; this bound holds whoever the callers are.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class GroupCommitTransactor implements Transactor, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(GroupCommitTransactor.class);

  private record Unit<T>(Supplier<T> work, CompletableFuture<Done<T>> done, Map<String, String> mdc) {}

  /** A committed unit's value and its after-commit actions, which its caller runs. */
  private record Done<T>(T value, List<Runnable> afterCommit) {}

  private final Database database;
  private final int maxBatch;
  private final int maxQueued;
  private final BlockingQueue<Unit<?>> queue;
  private final Thread writer;
  private volatile boolean closed;

  /**
   * @param maxBatch units committed together at most
   * @param maxQueued units waiting at most; more are refused
   */
  public GroupCommitTransactor(Database database, int maxBatch, int maxQueued) {
    this.database = database;
    this.maxBatch = maxBatch;
    this.maxQueued = maxQueued;
    this.queue = new LinkedBlockingQueue<>(maxQueued);
    this.writer = new Thread(this::loop, "group-commit");
    writer.setDaemon(true);
    writer.start();
  }

  @Override
  public <T> T inTransaction(Supplier<T> work) {
    if (database.currentConnection() != null) {
      return work.get();
    }
    if (closed) {
      throw new StoreException("the database is closing", null);
    }
    Unit<T> unit = new Unit<>(work, new CompletableFuture<>(), MDC.getCopyOfContextMap());
    if (!queue.offer(unit)) {
      throw new StoreOverloadedException("the broker is overloaded: " + maxQueued + " requests are already waiting "
          + "for the database; retry after a short pause");
    }
    Done<T> done;
    try {
      done = unit.done().get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new StoreException("database operation failed", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException("interrupted while waiting for the commit", e);
    }
    // The unit's after-commit actions (audit log lines) run here, on the caller's thread, not on the writer's.
    done.afterCommit().forEach(Database::runQuietly);
    return done.value();
  }

  /** Units waiting for the writer now. */
  int waiting() {
    return queue.size();
  }

  private void loop() {
    while (!closed) {
      List<Unit<?>> batch = new ArrayList<>();
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        break;
      }
      queue.drainTo(batch, maxBatch - 1);
      run(batch);
    }
    List<Unit<?>> left = new ArrayList<>();
    queue.drainTo(left);
    left.forEach(u -> u.done().completeExceptionally(new StoreException("the database is closing", null)));
  }

  private void run(List<Unit<?>> batch) {
    Object[] values = new Object[batch.size()];
    List<List<Runnable>> actions = new ArrayList<>(batch.size());
    RuntimeException[] failures = new RuntimeException[batch.size()];
    try {
      database.inTransaction(() -> {
        Connection connection = database.currentConnection();
        for (int i = 0; i < batch.size(); i++) {
          Savepoint savepoint = savepoint(connection);
          int mark = database.afterCommitMark();
          setMdc(batch.get(i).mdc());
          try {
            values[i] = batch.get(i).work().get();
            connection.releaseSavepoint(savepoint);
            actions.add(database.takeAfterCommit(mark));
          } catch (RuntimeException e) {
            rollbackTo(connection, savepoint);
            database.takeAfterCommit(mark);
            actions.add(List.of());
            failures[i] = e;
          } catch (SQLException e) {
            throw new StoreException("savepoint release failed", e);
          } finally {
            MDC.clear();
          }
        }
        return null;
      });
    } catch (RuntimeException | Error groupFailure) {
      if (batch.size() > 1) {
        log.debug("group of {} failed ({}); running each unit alone", batch.size(),
            groupFailure.getClass().getSimpleName());
      }
      batch.forEach(this::runAlone);
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      complete(batch.get(i), values[i], actions.get(i), failures[i]);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> void complete(Unit<T> unit, Object value, List<Runnable> afterCommit,
      RuntimeException failure) {
    if (failure != null) {
      unit.done().completeExceptionally(failure);
    } else {
      unit.done().complete(new Done<>((T) value, afterCommit));
    }
  }

  private <T> void runAlone(Unit<T> unit) {
    setMdc(unit.mdc());
    try {
      // Rare (the group failed): the after-commit actions run on the writer, inside Database#inTransaction.
      unit.done().complete(new Done<>(database.inTransaction(unit.work()), List.of()));
    } catch (RuntimeException | Error e) {
      unit.done().completeExceptionally(e);
    } finally {
      MDC.clear();
    }
  }

  private static void setMdc(Map<String, String> mdc) {
    if (mdc == null) {
      MDC.clear();
    } else {
      MDC.setContextMap(mdc);
    }
  }

  private static Savepoint savepoint(Connection connection) {
    try {
      return connection.setSavepoint();
    } catch (SQLException e) {
      throw new StoreException("cannot set a savepoint", e);
    }
  }

  /** A unit failed: undo its writes only; if even that is impossible, the whole group is retried unit by unit. */
  private static void rollbackTo(Connection connection, Savepoint savepoint) {
    try {
      connection.rollback(savepoint);
    } catch (SQLException e) {
      throw new StoreException("cannot roll back to a savepoint", e);
    }
  }

  @Override
  public void close() {
    closed = true;
    writer.interrupt();
  }
}
