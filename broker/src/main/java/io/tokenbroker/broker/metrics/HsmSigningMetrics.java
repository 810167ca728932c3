package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tokenbroker.broker.keys.SigningObserver;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Signatures made in the HSM with the token-signing keys (access tokens and the health probe): their latency as
 * a histogram ({@code tokenbroker_hsm_sign_seconds}) and the ones the HSM refused or could not make
 * ({@code tokenbroker_hsm_sign_errors_total}). Thread-safety: thread-safe.
 */
public final class HsmSigningMetrics implements SigningObserver {
  private final Timer signatures;
  private final Counter errors;

  public HsmSigningMetrics(MeterRegistry registry) {
    this.signatures = Timer.builder("tokenbroker.hsm.sign")
        .description("Signatures made in the HSM with the token-signing keys")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(50_000))
        .maximumExpectedValue(Duration.ofSeconds(5))
        .register(registry);
    this.errors = Counter.builder("tokenbroker.hsm.sign.errors")
        .description("Signatures the HSM refused or could not make (lost login, unreachable token)")
        .register(registry);
  }

  @Override
  public void signed(long nanos) {
    signatures.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void failed(long nanos) {
    errors.increment();
  }
}
