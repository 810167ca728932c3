package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;

/**
 * DPoP proofs the broker refused, on any endpoint, by the check they failed
 * ({@code tokenbroker_dpop_rejections_total{reason}}): a climbing {@code replay} or {@code key_mismatch} is
 * someone replaying or holding stolen tokens; {@code iat} is usually a device with a wrong clock.
 * Thread-safety: thread-safe.
 */
public final class DpopRejectionMetrics {
  private final MeterRegistry registry;

  public DpopRejectionMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts {@code refusal} when it refused a DPoP proof; other refusals are not this meter's business. */
  public void record(OAuthException refusal) {
    if (refusal.error() != OAuthError.INVALID_DPOP_PROOF && refusal.error() != OAuthError.USE_DPOP_NONCE) {
      return;
    }
    Counter.builder("tokenbroker.dpop.rejections")
        .description("DPoP proofs refused, by the RFC 9449 check they failed")
        .tag("reason", DpopRejectionReason.classify(refusal.error(), refusal.description()).label())
        .register(registry)
        .increment();
  }
}
