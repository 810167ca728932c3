package io.tokenbroker.broker.oauth;

/**
 * The errors the broker reports. Each name equals a {@code tokenbroker.v1.ErrorReason} value without its
 * {@code ERROR_REASON_} prefix; the gRPC adapter takes the RFC error code and the status code from there, so
 * the mapping lives in one place (the proto).
 */
public enum OAuthError {
  INVALID_REQUEST,
  INVALID_CLIENT,
  INVALID_GRANT,
  UNAUTHORIZED_CLIENT,
  UNSUPPORTED_GRANT_TYPE,
  INVALID_SCOPE,
  INVALID_TARGET,
  AUTHORIZATION_PENDING,
  SLOW_DOWN,
  ACCESS_DENIED,
  EXPIRED_TOKEN,
  INVALID_DPOP_PROOF,
  USE_DPOP_NONCE,
  INVALID_TOKEN,
  TEMPORARILY_UNAVAILABLE,
  SERVER_ERROR,
  DEVICE_REVOKED,
  DEVICE_SUSPENDED,
  RATE_LIMITED,
  NOT_FOUND,
  ALREADY_EXISTS,
  STATE_CONFLICT,
  INVALID_CSR
}
