package io.tokenbroker.agent.refresh;

import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.broker.BrokerException;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.StateStore;
import io.tokenbroker.proto.v1.TokenResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the device's tokens: rotates the refresh token crash-safely and keeps the current access token in
 * memory. Readers ({@link #currentToken()}, {@link #status()}) never wait for a refresh in flight.
 *
 * <p>A rotation is journalled: the state is written with {@code rotationStartedAt} before the request leaves,
 * and the new tokens replace the old ones in one atomic write after the response. The old refresh token stays
 * in the file until the new one is durable, so a power cut at any point leaves a token the broker accepts: the
 * current one if the request never arrived, or the just-rotated one, whose retry inside the broker's grace
 * window (before its successor was used) is answered with a fresh pair.
 */
public final class TokenKeeper {
  private static final Logger log = LoggerFactory.getLogger(TokenKeeper.class);
  /** A token this close to expiry is not handed out. */
  private static final long SAFETY_NANOS = Duration.ofSeconds(2).toNanos();

  /** The access token held in memory, with its expiry on the monotonic clock. */
  public record CurrentToken(String accessToken, List<String> audiences, long expiresAtNanos) {
    @Override
    public String toString() {
      return "CurrentToken[audiences=" + audiences + ", token redacted]";
    }
  }

  /** What a refresh attempt led to. */
  public enum Outcome { REFRESHED, RETRY, SUSPENDED, REVOKED, LOGIN_REQUIRED }

  /** A snapshot for {@code status}; contains no secret. */
  public record Status(AgentPhase phase, Duration accessExpiresIn, Duration refreshExpiresIn, Instant lastRefreshAt,
      String lastError, String lastErrorReason, String deviceState, String deviceId, String clientId,
      boolean rotationPending) {}

  private final StateStore store;
  private final BrokerClient client;
  private final List<String> audiences;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final Object rotation = new Object();

  private volatile AgentState state;
  private volatile CurrentToken current;
  private volatile long refreshExpiresAtNanos = Long.MIN_VALUE;
  private volatile Duration lastLifetime;
  private volatile AgentPhase phase;
  private volatile String transientError;
  private volatile String transientReason;

  public TokenKeeper(StateStore store, AgentState initial, BrokerClient client, List<String> audiences, Clock clock,
      LongSupplier nanoTime) {
    this.store = store;
    this.state = initial;
    this.client = client;
    this.audiences = List.copyOf(audiences);
    this.clock = clock;
    this.nanoTime = nanoTime;
    this.phase = initial.hasRefreshToken() ? AgentPhase.STARTING
        : "revoked".equals(initial.deviceState()) ? AgentPhase.BLOCKED : AgentPhase.LOGIN_REQUIRED;
  }

  /** True when the stored journal says a rotation was in flight (its response may have been lost). */
  public boolean rotationPending() {
    return state.rotationStartedAt() != null;
  }

  /** Lifetime of the last access token received, or null before the first one. */
  public Duration lastLifetime() {
    return lastLifetime;
  }

  /** Rotates the refresh token once. Serialised: one rotation at a time. */
  public Outcome refresh() {
    synchronized (rotation) {
      AgentState s = state;
      if (!s.hasRefreshToken()) {
        return "revoked".equals(s.deviceState()) ? Outcome.REVOKED : Outcome.LOGIN_REQUIRED;
      }
      if (s.rotationStartedAt() == null) {
        s = s.withRotationStarted(clock.instant());
        store.save(s);
        state = s;
      } else {
        log.info("retrying the refresh token rotation that started at {} (its response was lost)",
            s.rotationStartedAt());
      }
      CrashPoint.BEFORE_REQUEST.reach();
      TokenResponse response;
      long sentAt = nanoTime.getAsLong();
      try {
        response = client.refresh(s.refreshToken(), audiences, CrashPoint.AFTER_REQUEST::reach);
      } catch (BrokerException e) {
        return refused(s, e);
      }
      CrashPoint.AFTER_RESPONSE.reach();
      accept(s, response, sentAt);
      return Outcome.REFRESHED;
    }
  }

  /** Stores the first tokens of a device flow, or the tokens of a refresh. */
  private void accept(AgentState s, TokenResponse response, long sentAtNanos) {
    Instant now = clock.instant();
    Duration lifetime = Duration.ofSeconds(response.getExpiresIn().getSeconds());
    Duration familyLeft = response.hasRefreshTokenExpiresIn()
        ? Duration.ofSeconds(response.getRefreshTokenExpiresIn().getSeconds()) : null;
    AgentState next = s.withTokens(response.getDeviceId(), response.getRefreshToken(),
        familyLeft == null ? null : now.plus(familyLeft), response.getAccessToken(), now.plus(lifetime),
        response.getAudienceList(), response.getScopeList(), now);
    store.save(next, CrashPoint.DURING_WRITE::reach);
    state = next;
    // The lifetime counts from when the request was sent: the broker may have minted the token at any moment
    // after that, and the wall clock is not trusted.
    current = new CurrentToken(response.getAccessToken(), response.getAudienceList(),
        sentAtNanos + lifetime.toNanos());
    refreshExpiresAtNanos = familyLeft == null ? Long.MIN_VALUE : sentAtNanos + familyLeft.toNanos();
    lastLifetime = lifetime;
    transientError = null;
    transientReason = null;
    phase = AgentPhase.READY;
    log.info("tokens refreshed: access token valid for {} s, device {}", lifetime.toSeconds(),
        response.getDeviceId());
  }

  private Outcome refused(AgentState s, BrokerException e) {
    String reason = e.reason();
    if ("DEVICE_REVOKED".equals(reason)) {
      persist(s.withError(e.error(), reason, "revoked", true));
      current = null;
      phase = AgentPhase.BLOCKED;
      log.error("the broker reports this device as REVOKED; tokens wiped, stopping. A new enrolment is needed.");
      return Outcome.REVOKED;
    }
    if ("DEVICE_SUSPENDED".equals(reason)) {
      persist(s.withError(e.error(), reason, "suspended", false));
      current = null;
      phase = AgentPhase.BLOCKED;
      log.warn("the broker reports this device as SUSPENDED; waiting for an operator to resume it");
      return Outcome.SUSPENDED;
    }
    if ("INVALID_GRANT".equals(reason) || "INVALID_CLIENT".equals(reason)) {
      persist(s.withError(e.error(), reason, null, true));
      current = null;
      phase = AgentPhase.LOGIN_REQUIRED;
      log.error("the refresh token is no longer accepted ({}: {}); a new 'device-agent login' is needed",
          reason, e.description());
      return Outcome.LOGIN_REQUIRED;
    }
    transientError = e.error() == null ? e.code().name().toLowerCase(java.util.Locale.ROOT) : e.error();
    transientReason = reason;
    phase = AgentPhase.RETRYING;
    log.warn("refresh failed, will retry: {}", e.getMessage());
    return Outcome.RETRY;
  }

  private void persist(AgentState next) {
    store.save(next);
    state = next;
  }

  /** Stores the tokens of a completed device flow (RFC 8628 §3.5). */
  public void enrolled(TokenResponse response, long sentAtNanos) {
    synchronized (rotation) {
      accept(state, response, sentAtNanos);
    }
  }

  /** The access token if it is still valid on the monotonic clock. Never blocks. */
  public Optional<CurrentToken> currentToken() {
    CurrentToken t = current;
    if (t == null || t.expiresAtNanos() - nanoTime.getAsLong() <= SAFETY_NANOS) {
      return Optional.empty();
    }
    return Optional.of(t);
  }

  /** The state as last written (for logout and for the DPoP key). */
  public AgentState state() {
    return state;
  }

  /** A snapshot without secrets. */
  public Status status() {
    AgentState s = state;
    long now = nanoTime.getAsLong();
    CurrentToken t = current;
    Duration accessLeft = t == null ? null : Duration.ofNanos(Math.max(0, t.expiresAtNanos() - now));
    Duration familyLeft = refreshExpiresAtNanos == Long.MIN_VALUE || !s.hasRefreshToken() ? null
        : Duration.ofNanos(Math.max(0, refreshExpiresAtNanos - now));
    String error = transientError != null ? transientError : s.lastError();
    String reason = transientReason != null ? transientReason : s.lastErrorReason();
    return new Status(phase, accessLeft, familyLeft, s.lastRefreshAt(), error, reason, s.deviceState(),
        s.deviceId(), s.clientId(), s.rotationStartedAt() != null);
  }
}
