package io.tokenbroker.broker.device;

import java.time.Instant;
import java.util.Set;

/**
 * A device that completed the device flow: the subject of its tokens, bound to its key or certificate.
 * {@code userAgent} is what its agent last sent (with the firmware version); {@code lastRefreshAt} is null
 * until it first refreshes.
 */
public record Device(
    String deviceId,
    String clientId,
    String owner,
    State state,
    String jkt,
    String x5tS256,
    Set<String> scopes,
    Set<String> audiences,
    Instant createdAt,
    Instant lastSeenAt,
    Instant stateChangedAt,
    String stateReason,
    String userAgent,
    Instant lastRefreshAt) {

  public enum State { ACTIVE, SUSPENDED, REVOKED }

  /** What the device's tokens are bound to: its DPoP key or its certificate. */
  public io.tokenbroker.broker.binding.TokenBinding binding() {
    return io.tokenbroker.broker.binding.TokenBinding.of(jkt, x5tS256);
  }

  public Device {
    scopes = Set.copyOf(scopes);
    audiences = Set.copyOf(audiences);
  }
}
