package io.tokenbroker.agent.store;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * Everything the agent keeps across restarts, sealed as one file by {@link StateStore}. Wall-clock instants
 * here are informative only (for {@code status} and for CLI commands run without the daemon); the daemon
 * schedules on the monotonic clock and refreshes once after every start.
 *
 * @param clientId the client the device enrolled under
 * @param deviceId the device id ({@code sub}) the broker assigned
 * @param refreshToken the current refresh token (secret); null when there is none (never enrolled, wiped)
 * @param refreshExpiresAt wall-clock estimate of when the refresh family ends; null = no bound
 * @param accessToken the last access token (secret); null if none
 * @param accessExpiresAt wall-clock estimate of the access token's expiry
 * @param audiences the audiences of the access token
 * @param scopes the scopes of the access token
 * @param lastRefreshAt when the last token request succeeded
 * @param deviceState active, suspended, revoked or unknown, as last reported by the broker
 * @param lastError OAuth error code of the last failed broker call, or null
 * @param lastErrorReason ErrorInfo.reason of the last failed broker call, or null
 * @param rotationStartedAt the rotation journal: set (durably) before a refresh request is sent and cleared
 *     with the durable write of its result; when set after a restart, the response was lost and the same
 *     refresh token must be retried at once, inside the broker's grace window
 * @param dpopKeyJwk the software DPoP private key as a JWK (secret); null with a PKCS#11 key
 * @param dpopKeyAlias the alias of the DPoP key in the PKCS#11 token; null with a software key
 */
public record AgentState(String clientId, String deviceId, String refreshToken, Instant refreshExpiresAt,
    String accessToken, Instant accessExpiresAt, List<String> audiences, List<String> scopes, Instant lastRefreshAt,
    String deviceState, String lastError, String lastErrorReason, Instant rotationStartedAt, String dpopKeyJwk,
    String dpopKeyAlias) {
  private static final String VERSION = "1";
  /** The device states the agent records (from the broker's ErrorInfo, or "unknown" before any answer). */
  private static final List<String> DEVICE_STATES = List.of("active", "suspended", "revoked", "unknown");

  public AgentState {
    audiences = audiences == null ? List.of() : List.copyOf(audiences);
    scopes = scopes == null ? List.of() : List.copyOf(scopes);
  }

  /** A fresh state with only a DPoP key. */
  public static AgentState withKey(String clientId, String dpopKeyJwk, String dpopKeyAlias) {
    return new AgentState(clientId, null, null, null, null, null, List.of(), List.of(), null, "unknown", null, null,
        null, dpopKeyJwk, dpopKeyAlias);
  }

  public boolean hasRefreshToken() {
    return refreshToken != null;
  }

  /** The result of a successful token request; clears the journal and the last error. */
  public AgentState withTokens(String deviceId, String refreshToken, Instant refreshExpiresAt, String accessToken,
      Instant accessExpiresAt, List<String> audiences, List<String> scopes, Instant now) {
    return new AgentState(clientId, deviceId, refreshToken, refreshExpiresAt, accessToken, accessExpiresAt,
        audiences, scopes, now, "active", null, null, null, dpopKeyJwk, dpopKeyAlias);
  }

  /** Journals that a refresh with the current refresh token is about to be sent. */
  public AgentState withRotationStarted(Instant now) {
    return new AgentState(clientId, deviceId, refreshToken, refreshExpiresAt, accessToken, accessExpiresAt,
        audiences, scopes, lastRefreshAt, deviceState, lastError, lastErrorReason, now, dpopKeyJwk, dpopKeyAlias);
  }

  /**
   * Records a decision of the broker against the refresh (nothing was rotated, so the journal is cleared);
   * {@code dropTokens} wipes the tokens (revoked device, dead family).
   */
  public AgentState withError(String error, String reason, String newDeviceState, boolean dropTokens) {
    return new AgentState(clientId, deviceId, dropTokens ? null : refreshToken,
        dropTokens ? null : refreshExpiresAt, dropTokens ? null : accessToken, dropTokens ? null : accessExpiresAt,
        audiences, scopes, lastRefreshAt, newDeviceState == null ? deviceState : newDeviceState, error, reason,
        null, dpopKeyJwk, dpopKeyAlias);
  }

  byte[] serialize() {
    Properties p = new Properties();
    p.setProperty("version", VERSION);
    put(p, "client_id", clientId);
    put(p, "device_id", deviceId);
    put(p, "refresh_token", refreshToken);
    put(p, "refresh_expires_at", refreshExpiresAt);
    put(p, "access_token", accessToken);
    put(p, "access_expires_at", accessExpiresAt);
    p.setProperty("audiences", String.join(" ", audiences));
    p.setProperty("scopes", String.join(" ", scopes));
    put(p, "last_refresh_at", lastRefreshAt);
    put(p, "device_state", deviceState);
    put(p, "last_error", lastError);
    put(p, "last_error_reason", lastErrorReason);
    put(p, "rotation_started_at", rotationStartedAt);
    put(p, "dpop_key_jwk", dpopKeyJwk);
    put(p, "dpop_key_alias", dpopKeyAlias);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      p.store(out, null);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  static AgentState parse(byte[] bytes, java.nio.file.Path file) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(new String(bytes, StandardCharsets.ISO_8859_1)));
      String version = p.getProperty("version");
      if (!VERSION.equals(version)) {
        // Name the version only when it looks like one: a damaged file may hold a secret on that line.
        throw new AgentException(ExitCodes.STORE, "state file " + file + " has "
            + (version != null && version.matches("[0-9]{1,4}") ? "unknown version " + version
                : "no readable version") + "; this agent writes version " + VERSION);
      }
      String deviceState = p.getProperty("device_state", "unknown");
      if (!DEVICE_STATES.contains(deviceState)) {
        // Never echo the value: a damaged file may hold a secret there.
        throw new AgentException(ExitCodes.STORE, "state file " + file + " decrypted but its device_state is not"
            + " one of " + String.join(", ", DEVICE_STATES));
      }
      return new AgentState(p.getProperty("client_id"), p.getProperty("device_id"), p.getProperty("refresh_token"),
          instant(p, "refresh_expires_at"), p.getProperty("access_token"), instant(p, "access_expires_at"),
          words(p.getProperty("audiences")), words(p.getProperty("scopes")), instant(p, "last_refresh_at"),
          deviceState, p.getProperty("last_error"), p.getProperty("last_error_reason"),
          instant(p, "rotation_started_at"), p.getProperty("dpop_key_jwk"), p.getProperty("dpop_key_alias"));
    } catch (IOException | RuntimeException e) {
      if (e instanceof AgentException ae) {
        throw ae;
      }
      throw new AgentException(ExitCodes.STORE, "state file " + file + " decrypted but its content is invalid ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  /** Space-separated scopes or audiences; the agent writes only printable ASCII words (RFC 6749 3.3). */
  private static List<String> words(String v) {
    if (v == null) {
      return List.of();
    }
    List<String> words = Arrays.stream(v.split(" ")).filter(w -> !w.isEmpty()).toList();
    for (String w : words) {
      if (!w.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException("a scope or audience with a character the agent never writes");
      }
    }
    return words;
  }

  private static Instant instant(Properties p, String key) {
    String v = p.getProperty(key);
    return v == null ? null : Instant.parse(v);
  }

  private static void put(Properties p, String key, Object value) {
    if (value != null) {
      p.setProperty(key, value.toString());
    }
  }

  @Override
  public String toString() {
    return "AgentState[client=" + clientId + ", device=" + deviceId + ", state=" + deviceState
        + ", refreshToken=" + (refreshToken == null ? "none" : "present") + ", secrets redacted]";
  }
}
