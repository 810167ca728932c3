package io.tokenbroker.broker.hsm;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the HSM login alive. It probes the token (one signature with the active key) every interval and at once
 * when a key operation reports a lost session; while the probe fails it logs in again each interval. Listeners
 * hear when the HSM becomes unusable and usable again, so health checks can say NOT_SERVING meanwhile.
 *
 * <p>Requests that reach the HSM while it is unusable fail on their own (UNAVAILABLE, nothing committed); the
 * monitor only restores the login. A probe or re-login that hangs (an unreachable network HSM blocks rather
 * than fails) makes {@link #usable()} false once it has run for {@link #HANG_LIMIT}.
 *
 * <p>Thread-safety: thread-safe; checks run on one private thread.
 */
public final class HsmHealthMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HsmHealthMonitor.class);
  /** A check still running after this long counts as a failure: a usable HSM signs in milliseconds. */
  public static final Duration HANG_LIMIT = Duration.ofSeconds(5);
  private static final long NOT_CHECKING = Long.MIN_VALUE;

  private final Pkcs11Token token;
  private final Runnable probe;
  private final Duration interval;
  private final Consumer<Boolean> usabilityListener;
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "hsm-health");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean checkQueued = new AtomicBoolean();
  private volatile boolean usable = true;
  /** System.nanoTime() when the running check began, or NOT_CHECKING. */
  private volatile long checkStartedAt = NOT_CHECKING;

  /**
   * @param probe a cheap key operation that throws when the HSM cannot be used (e.g. sign with the active key)
   * @param usabilityListener told {@code false} when the HSM becomes unusable and {@code true} when it recovers
   */
  public HsmHealthMonitor(Pkcs11Token token, Runnable probe, Duration interval, Consumer<Boolean> usabilityListener) {
    this.token = token;
    this.probe = probe;
    this.interval = interval;
    this.usabilityListener = usabilityListener;
  }

  public HsmHealthMonitor start() {
    token.onSessionLost(this::checkSoon);
    executor.scheduleWithFixedDelay(this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Whether the last probe (or re-login) succeeded and no check has been hanging for {@link #HANG_LIMIT}. */
  public boolean usable() {
    long started = checkStartedAt;
    boolean hanging = started != NOT_CHECKING && System.nanoTime() - started > HANG_LIMIT.toNanos();
    return usable && !hanging;
  }

  private void checkSoon() {
    if (checkQueued.compareAndSet(false, true)) {
      try {
        executor.execute(() -> {
          checkQueued.set(false);
          check();
        });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        checkQueued.set(false); // closing
      }
    }
  }

  private void check() {
    checkStartedAt = System.nanoTime();
    try {
      probeAndRelogin();
    } finally {
      checkStartedAt = NOT_CHECKING;
    }
  }

  private void probeAndRelogin() {
    if (probeSucceeds()) {
      setUsable(true);
      return;
    }
    setUsable(false);
    try {
      token.relogin();
    } catch (HsmException e) {
      log.warn("HSM re-login failed; retrying in {} ms: {}", interval.toMillis(), e.getMessage());
      return;
    }
    if (probeSucceeds()) {
      log.info("HSM login restored for the {}", token.description());
      setUsable(true);
    } else {
      log.warn("HSM re-login succeeded but the probe still fails; retrying in {} ms", interval.toMillis());
    }
  }

  private boolean probeSucceeds() {
    try {
      probe.run();
      return true;
    } catch (RuntimeException e) {
      if (usable) {
        log.warn("HSM probe failed: {}", e.getMessage());
      }
      return false;
    }
  }

  private void setUsable(boolean now) {
    if (usable == now) {
      return;
    }
    usable = now;
    if (!now) {
      log.error("the HSM is unusable; token requests fail with UNAVAILABLE until the login is restored");
    }
    usabilityListener.accept(now);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
