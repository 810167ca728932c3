package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbroker.broker.device.Device;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Devices by state ({@code tokenbroker_devices{state}}), from a count that is at most {@code maxAge} old. A
 * scrape never waits for the database: it reads the last count and, when that is older than {@code maxAge},
 * has one recount started in the background. A fleet of millions therefore costs one index scan per
 * {@code maxAge} at most, however often Prometheus scrapes, and none while nobody scrapes. NaN until the first
 * count is in.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class DeviceStateGauge implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DeviceStateGauge.class);

  private record Count(Map<Device.State, Long> byState, long takenAt) {}

  private final Supplier<Map<Device.State, Long>> counter;
  private final long maxAgeNanos;
  private final ExecutorService recounts = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "device-count");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean recounting = new AtomicBoolean();
  private volatile boolean closed;
  private volatile Count last;

  /** @param counter counts devices by state (e.g. {@code DeviceStore::countByState}); may be slow or throw */
  public DeviceStateGauge(MeterRegistry registry, Supplier<Map<Device.State, Long>> counter, Duration maxAge) {
    this.counter = counter;
    this.maxAgeNanos = maxAge.toNanos();
    for (Device.State state : Device.State.values()) {
      Gauge.builder("tokenbroker.devices", this, g -> g.value(state))
          .description("Devices by state, counted at most metrics.device-count-max-age ago")
          .tag("state", state.name().toLowerCase(Locale.ROOT))
          .strongReference(true)
          .register(registry);
    }
    recountSoon();
  }

  private double value(Device.State state) {
    Count count = last;
    if (count == null || System.nanoTime() - count.takenAt() > maxAgeNanos) {
      recountSoon();
    }
    return count == null ? Double.NaN : count.byState().getOrDefault(state, 0L);
  }

  private void recountSoon() {
    if (!recounting.compareAndSet(false, true)) {
      return;
    }
    try {
      recounts.execute(() -> {
        try {
          last = new Count(Map.copyOf(counter.get()), System.nanoTime());
        } catch (RuntimeException e) {
          if (!closed) {
            log.warn("cannot count devices by state for the metrics: {}", e.getClass().getSimpleName());
          }
        } finally {
          recounting.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      recounting.set(false); // closing
    }
  }

  @Override
  public void close() {
    closed = true;
    recounts.shutdownNow();
  }
}
