package io.tokenbroker.broker.revocation;

/** Why something was revoked; mirrors {@code tokenbroker.v1.RevocationReason}. */
public enum RevocationReason {
  TOKEN_REVOKED,
  REFRESH_TOKEN_REUSE,
  DEVICE_REVOKED,
  DEVICE_SUSPENDED,
  CLIENT_DEVICES_REVOKED,
  KEY_COMPROMISE
}
