package io.tokenbroker.broker.revocation;

/** What a revocation event names: verifiers refuse tokens with a matching claim issued at or before it. */
public enum SubjectKind {
  /** The token's {@code sub}. */
  DEVICE_ID,
  /** The token's {@code sid}: every access token minted from one refresh family. */
  REFRESH_FAMILY_ID,
  /** One access token's {@code jti}. */
  ACCESS_TOKEN_JTI,
  /** A DPoP key thumbprint ({@code cnf.jkt}); the broker also refuses it at the token endpoint. */
  JKT,
  /** A certificate thumbprint ({@code cnf.x5t#S256}). */
  X5T_S256,
  /** A device certificate's serial (lowercase hex): verifiers refuse mutual-TLS peers presenting it. */
  CERTIFICATE_SERIAL,
  /** The token's {@code client_id}: a whole product line. */
  CLIENT_ID
}
