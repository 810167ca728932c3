package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbroker.broker.ops.ReadinessMonitor;
import java.util.List;

/**
 * Readiness as metrics, so Prometheus can alert on it without probing /readyz: {@code tokenbroker_ready} (1 or
 * 0) and {@code tokenbroker_readiness_check{check}} (1 passing, 0 failing), from the monitor's last evaluation.
 */
public final class ReadinessMetrics {
  private ReadinessMetrics() {}

  public static void bind(MeterRegistry registry, ReadinessMonitor readiness, List<String> checks) {
    Gauge.builder("tokenbroker.ready", readiness, r -> r.current().ready() ? 1 : 0)
        .description("1 when the broker is ready (HSM, database and active signing key usable), else 0")
        .strongReference(true)
        .register(registry);
    for (String check : checks) {
      Gauge.builder("tokenbroker.readiness.check", readiness, r -> r.current().failed().contains(check) ? 0 : 1)
          .description("1 when this readiness check passed at the last evaluation, 0 when it failed")
          .tag("check", check)
          .strongReference(true)
          .register(registry);
    }
  }
}
