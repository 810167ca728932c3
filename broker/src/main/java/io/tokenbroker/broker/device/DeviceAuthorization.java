package io.tokenbroker.broker.device;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * One device authorization request (RFC 8628 §3.1-3.5) and its state. Immutable: each transition returns the
 * next value. Codes appear only as hashes.
 */
public record DeviceAuthorization(
    String id,
    String deviceCodeHash,
    String userCodeHash,
    String clientId,
    Set<String> scopes,
    Set<String> audiences,
    Status status,
    Instant createdAt,
    Instant expiresAt,
    Duration interval,
    Instant lastPolledAt,
    Instant decidedAt,
    String owner,
    String deviceId) {

  /** PENDING until a person decides; CONSUMED once its tokens were issued (a device code yields tokens once). */
  public enum Status { PENDING, APPROVED, DENIED, CONSUMED }

  /** RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
  public static final Duration SLOW_DOWN_STEP = Duration.ofSeconds(5);

  public DeviceAuthorization {
    scopes = Set.copyOf(scopes);
    audiences = Set.copyOf(audiences);
  }

  /** What a poll with the device code yields, together with the state to store. */
  public sealed interface PollOutcome {
    DeviceAuthorization next();

    record Pending(DeviceAuthorization next) implements PollOutcome {}

    record SlowDown(DeviceAuthorization next) implements PollOutcome {}

    record Denied(DeviceAuthorization next) implements PollOutcome {}

    record Expired(DeviceAuthorization next) implements PollOutcome {}

    record AlreadyUsed(DeviceAuthorization next) implements PollOutcome {}

    record Issue(DeviceAuthorization next) implements PollOutcome {}
  }

  /** A token request with this device code at {@code now} (RFC 8628 §3.4-3.5). */
  public PollOutcome poll(Instant now) {
    if (status == Status.CONSUMED) {
      // A device code yields tokens once; a second redemption is an invalid grant, not a new issuance.
      return new PollOutcome.AlreadyUsed(this);
    }
    // RFC 8628 §3.5 expired_token: "The device_code has expired, and the device authorization session has
    // concluded."
    if (!now.isBefore(expiresAt)) {
      return new PollOutcome.Expired(this);
    }
    // RFC 8628 §3.5 slow_down: polled before the interval elapsed; the interval grows by 5 s for good.
    if (lastPolledAt != null && now.isBefore(lastPolledAt.plus(interval))) {
      return new PollOutcome.SlowDown(withPoll(now, interval.plus(SLOW_DOWN_STEP), status));
    }
    return switch (status) {
      // RFC 8628 §3.5 authorization_pending: "the end user hasn't yet completed the user-interaction steps".
      case PENDING -> new PollOutcome.Pending(withPoll(now, interval, Status.PENDING));
      // RFC 8628 §3.5 access_denied: "The authorization request was denied."
      case DENIED -> new PollOutcome.Denied(withPoll(now, interval, Status.DENIED));
      case APPROVED -> new PollOutcome.Issue(withPoll(now, interval, Status.CONSUMED));
      case CONSUMED -> throw new IllegalStateException("handled above");
    };
  }

  /** The person approved: the device id is fixed now and becomes the token's {@code sub}. */
  public DeviceAuthorization approve(String owner, String newDeviceId, Instant now) {
    return new DeviceAuthorization(id, deviceCodeHash, userCodeHash, clientId, scopes, audiences, Status.APPROVED,
        createdAt, expiresAt, interval, lastPolledAt, now, owner, newDeviceId);
  }

  public DeviceAuthorization deny(Instant now) {
    return new DeviceAuthorization(id, deviceCodeHash, userCodeHash, clientId, scopes, audiences, Status.DENIED,
        createdAt, expiresAt, interval, lastPolledAt, now, owner, deviceId);
  }

  /** Whether a person can still decide on it: pending and not expired. */
  public boolean awaitingDecision(Instant now) {
    return status == Status.PENDING && now.isBefore(expiresAt);
  }

  private DeviceAuthorization withPoll(Instant now, Duration newInterval, Status newStatus) {
    return new DeviceAuthorization(id, deviceCodeHash, userCodeHash, clientId, scopes, audiences, newStatus,
        createdAt, expiresAt, newInterval, now, decidedAt, owner, deviceId);
  }
}
