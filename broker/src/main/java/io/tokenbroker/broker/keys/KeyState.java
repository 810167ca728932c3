package io.tokenbroker.broker.keys;

/**
 * Where a signing key is in its life. Only the ACTIVE key signs; NEXT, ACTIVE and RETIRED keys are published
 * in the JWKS so that verifiers know a key before it signs and keep it until every token it signed expired.
 */
public enum KeyState {
  /** Published, not signing yet: verifiers learn it before it is used. */
  NEXT,
  /** The one key that signs new tokens. */
  ACTIVE,
  /** No longer signs; published until every token it signed has expired. */
  RETIRED,
  /** Gone from the JWKS and destroyed in the HSM; the record stays as history. */
  REMOVED
}
