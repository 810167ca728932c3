package io.tokenbroker.broker.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides readiness from named checks, every interval and whenever {@link #evaluateNow()} is called (the HSM
 * monitor calls it when the HSM becomes unusable or usable again). The same answer feeds {@code /readyz} and,
 * through the listener, the gRPC health service, so both fall and recover together.
 *
 * <p>Each check runs on a thread of its own and fails when it throws, answers false or has not answered
 * within the timeout: a database that hangs is as unready as one that refuses. A check still hanging from an
 * earlier round fails at once without another attempt piling up behind it.
 *
 * <p>Thread-safety: thread-safe; evaluations are serialised, so the latest one always wins.
 */
public final class ReadinessMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReadinessMonitor.class);

  /** A named check: true when healthy. It may throw or block. */
  public record Check(String name, BooleanSupplier healthy) {}

  private final List<Check> checks;
  private final Duration interval;
  private final Duration timeout;
  private final Consumer<Boolean> listener;
  private final ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(r -> daemon(r,
      "readiness"));
  private final ExecutorService probes = Executors.newCachedThreadPool(r -> daemon(r, "readiness-check"));
  private final Object evaluating = new Object();
  /** Guarded by {@link #evaluating}. */
  private final Map<String, Future<Boolean>> running = new HashMap<>();
  private volatile Readiness current;

  /**
   * @param interval how often the checks run
   * @param timeout how long a check may take before it counts as failed
   * @param listener told {@code true} or {@code false} at the first evaluation and whenever readiness changes
   */
  public ReadinessMonitor(List<Check> checks, Duration interval, Duration timeout, Consumer<Boolean> listener) {
    this.checks = List.copyOf(checks);
    this.interval = interval;
    this.timeout = timeout;
    this.listener = listener;
  }

  /** Evaluates once now (bounded by the timeout), then every interval. */
  public ReadinessMonitor start() {
    evaluateNow();
    schedule.scheduleWithFixedDelay(this::evaluateNow, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  /** The last evaluation's answer. */
  public Readiness current() {
    Readiness r = current;
    return r != null ? r : new Readiness(false, checks.stream().map(Check::name).toList());
  }

  /** Runs every check now and publishes the result; returns it. Waits at most the timeout (plus a running round). */
  public Readiness evaluateNow() {
    synchronized (evaluating) {
      long deadline = System.nanoTime() + timeout.toNanos();
      Map<String, Future<Boolean>> round = new LinkedHashMap<>();
      for (Check check : checks) {
        Future<Boolean> previous = running.get(check.name());
        if (previous != null && !previous.isDone()) {
          round.put(check.name(), null); // still hanging: failed, and no second attempt behind it
          continue;
        }
        try {
          Future<Boolean> attempt = probes.submit(() -> check.healthy().getAsBoolean());
          running.put(check.name(), attempt);
          round.put(check.name(), attempt);
        } catch (RejectedExecutionException e) {
          return current(); // closing
        }
      }
      List<String> failed = new ArrayList<>();
      for (Map.Entry<String, Future<Boolean>> e : round.entrySet()) {
        if (!passed(e.getValue(), deadline)) {
          failed.add(e.getKey());
        }
      }
      return publish(new Readiness(failed.isEmpty(), failed));
    }
  }

  private static boolean passed(Future<Boolean> attempt, long deadline) {
    if (attempt == null) {
      return false;
    }
    try {
      return attempt.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private synchronized Readiness publish(Readiness now) {
    Readiness before = current;
    current = now;
    if (before == null || before.ready() != now.ready()) {
      if (now.ready()) {
        log.info(before == null ? "ready" : "ready again");
      } else {
        log.error("not ready: failed checks {}", now.failed());
      }
      try {
        listener.accept(now.ready());
      } catch (RuntimeException e) {
        log.warn("readiness listener failed: {}", e.getClass().getName());
      }
    } else if (!now.ready() && !now.failed().equals(before.failed())) {
      log.error("not ready: failed checks {}", now.failed());
    }
    return now;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() {
    schedule.shutdownNow();
    probes.shutdownNow();
  }
}
