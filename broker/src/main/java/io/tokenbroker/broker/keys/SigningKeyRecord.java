package io.tokenbroker.broker.keys;

import java.time.Instant;
import java.util.Objects;

/**
 * The persisted state of one signing key: its public JWK and the moments it changed state. The private key is
 * in the HSM under the same kid. Times that have not happened yet are null.
 */
public record SigningKeyRecord(
    String kid,
    SigningAlgorithm algorithm,
    KeyState state,
    String publicJwkJson,
    Instant createdAt,
    Instant activatedAt,
    Instant retiredAt,
    Instant removedAt) {

  public SigningKeyRecord {
    Objects.requireNonNull(kid, "kid");
    Objects.requireNonNull(algorithm, "algorithm");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(publicJwkJson, "publicJwkJson");
    Objects.requireNonNull(createdAt, "createdAt");
  }

  /** A freshly generated key, published as NEXT. */
  public static SigningKeyRecord next(String kid, SigningAlgorithm algorithm, String publicJwkJson, Instant now) {
    return new SigningKeyRecord(kid, algorithm, KeyState.NEXT, publicJwkJson, now, null, null, null);
  }

  /** Whether verifiers need this key: NEXT, ACTIVE and RETIRED keys are in the JWKS. */
  public boolean published() {
    return state != KeyState.REMOVED;
  }
}
