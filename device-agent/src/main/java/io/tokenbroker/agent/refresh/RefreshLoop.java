package io.tokenbroker.agent.refresh;

import io.tokenbroker.agent.ExitCodes;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's loop: refresh once at start (the wall clock is not trusted across a restart), then at about
 * 75% of each token's lifetime with jitter; on transient failures retry with exponential backoff and full
 * jitter; while suspended check back at a long interval; on revocation or a dead refresh family stop with a
 * distinct exit code instead of retrying. While a rotation's outcome is unknown, retries stay inside the
 * broker's grace window so a lost response is recovered.
 */
public final class RefreshLoop {
  private static final Logger log = LoggerFactory.getLogger(RefreshLoop.class);

  private final TokenKeeper keeper;
  private final RefreshSchedule schedule;
  private final Backoff backoff;
  private final Duration maxBackoff;
  private final Duration grace;
  private final Duration suspendedInterval;
  private final RandomGenerator random;
  private final LongSupplier nanoTime;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition wake = lock.newCondition();
  private volatile boolean stopped;
  private boolean nudged;

  public RefreshLoop(TokenKeeper keeper, RefreshSchedule schedule, Backoff backoff, Duration maxBackoff,
      Duration grace, Duration suspendedInterval, RandomGenerator random, LongSupplier nanoTime) {
    this.keeper = keeper;
    this.schedule = schedule;
    this.backoff = backoff;
    this.maxBackoff = maxBackoff;
    this.grace = grace;
    this.suspendedInterval = suspendedInterval;
    this.random = random;
    this.nanoTime = nanoTime;
  }

  /** Runs until stopped or until the device is revoked or needs a new login; returns the exit code. */
  public int run() {
    int attempt = 0;
    long pendingSince = keeper.rotationPending() ? nanoTime.getAsLong() : Long.MIN_VALUE;
    while (!stopped) {
      TokenKeeper.Outcome outcome = keeper.refresh();
      Duration wait;
      switch (outcome) {
        case REFRESHED -> {
          attempt = 0;
          pendingSince = Long.MIN_VALUE;
          wait = schedule.delayFor(keeper.lastLifetime());
        }
        case RETRY -> {
          if (keeper.rotationPending() && pendingSince == Long.MIN_VALUE) {
            pendingSince = nanoTime.getAsLong();
          }
          Duration cap = maxBackoff;
          boolean withinGrace = pendingSince != Long.MIN_VALUE
              && nanoTime.getAsLong() - pendingSince < grace.toNanos();
          if (withinGrace && grace.dividedBy(4).compareTo(cap) < 0) {
            cap = grace.dividedBy(4);
          }
          wait = backoff.delay(attempt++, cap);
        }
        case SUSPENDED -> {
          attempt = 0;
          long base = suspendedInterval.toMillis();
          wait = Duration.ofMillis(base * 4 / 5 + random.nextLong(base * 2 / 5 + 1));
        }
        case REVOKED -> {
          return ExitCodes.REVOKED;
        }
        case LOGIN_REQUIRED -> {
          return ExitCodes.LOGIN_REQUIRED;
        }
        default -> throw new IllegalStateException(outcome.name());
      }
      log.debug("next refresh in {} ms", wait.toMillis());
      sleep(wait);
    }
    return ExitCodes.OK;
  }

  /** Wakes the loop early (an application asked for a token that has expired). */
  public void nudge() {
    lock.lock();
    try {
      nudged = true;
      wake.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public void stop() {
    stopped = true;
    nudge();
  }

  private void sleep(Duration wait) {
    lock.lock();
    try {
      long left = wait.toNanos();
      while (left > 0 && !nudged && !stopped) {
        left = wake.awaitNanos(left);
      }
      nudged = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = true;
    } finally {
      lock.unlock();
    }
  }

}
