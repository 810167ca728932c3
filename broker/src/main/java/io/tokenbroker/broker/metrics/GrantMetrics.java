package io.tokenbroker.broker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tokenbroker.broker.grant.GrantMonitor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The token endpoint's meters: every grant by type and outcome ({@code tokenbroker_token_grants_total}), the
 * latency of grants that issued tokens as a histogram ({@code tokenbroker_token_issuance_seconds}), and refresh
 * token reuse detections ({@code tokenbroker_refresh_token_reuse_total}).
 *
 * <p>Label values come from fixed sets (grant types, RFC error codes, broker error reasons), never from requests.
 * Thread-safety: thread-safe.
 */
public final class GrantMetrics implements GrantMonitor {
  public static final String DEVICE_CODE = "device_code";
  public static final String REFRESH_TOKEN = "refresh_token";
  /** A request that named no grant (answered {@code unsupported_grant_type}). */
  public static final String NO_GRANT = "none";
  static final String SUCCESS = "success";

  private final MeterRegistry registry;
  private final Counter reuse;

  public GrantMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.reuse = Counter.builder("tokenbroker.refresh.token.reuse")
        .description("Refresh tokens presented again after rotation; each revoked its whole family (RFC 9700 4.14.2)")
        .register(registry);
    // Present from the start, so that rate() and absent() work before the first device arrives.
    for (String type : new String[] {DEVICE_CODE, REFRESH_TOKEN}) {
      grants(type, SUCCESS, "none");
      issuance(type);
    }
  }

  /** A grant issued tokens after {@code nanos}. */
  public void issued(String grantType, long nanos) {
    grants(grantType, SUCCESS, "none").increment();
    issuance(grantType).record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * A grant was answered with an error.
   *
   * @param errorCode the exact RFC error code sent ({@code authorization_pending}, {@code invalid_grant}, ...)
   * @param reason the broker's reason, the ErrorInfo reason ({@code DEVICE_REVOKED}, ...)
   */
  public void refused(String grantType, String errorCode, String reason) {
    grants(grantType, errorCode, reason).increment();
  }

  @Override
  public void refreshTokenReuseDetected() {
    reuse.increment();
  }

  private Counter grants(String grantType, String outcome, String reason) {
    return Counter.builder("tokenbroker.token.grants")
        .description("Token requests by grant type and outcome: success or the OAuth error code answered")
        .tag("grant_type", grantType)
        .tag("outcome", outcome)
        .tag("reason", reason)
        .register(registry);
  }

  private Timer issuance(String grantType) {
    return Timer.builder("tokenbroker.token.issuance")
        .description("Time from a token request's arrival to its tokens being signed and committed")
        .tag("grant_type", grantType)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
  }
}
