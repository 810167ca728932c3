package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbroker.broker.api.RevocationFeed;

/**
 * The {@code WatchRevocations} streams: how many verifiers are subscribed
 * ({@code tokenbroker_revocation_subscribers}) and how far the slowest one is behind, in events
 * ({@code tokenbroker_revocation_lag_events}) and in time ({@code tokenbroker_revocation_lag_seconds}). A lag
 * that grows means a verifier that still accepts tokens the broker has revoked. Read from the feed's memory.
 */
public final class RevocationStreamMetrics {
  private RevocationStreamMetrics() {}

  public static void bind(MeterRegistry registry, RevocationFeed feed) {
    Gauge.builder("tokenbroker.revocation.subscribers", feed, RevocationFeed::subscriberCount)
        .description("Open WatchRevocations streams (catching up or live)")
        .strongReference(true)
        .register(registry);
    Gauge.builder("tokenbroker.revocation.lag.events", feed, RevocationFeed::lag)
        .description("Revocation events not yet sent to the furthest-behind live stream")
        .strongReference(true)
        .register(registry);
    Gauge.builder("tokenbroker.revocation.lag", feed, RevocationFeed::lagSeconds)
        .description("How long the furthest-behind live stream has had revocation events waiting for it")
        .baseUnit("seconds")
        .strongReference(true)
        .register(registry);
  }
}
