package io.tokenbroker.verifier;

/**
 * Why a token or proof was refused, with the error code a resource server sends back in its
 * {@code WWW-Authenticate} challenge (RFC 6750 §3.1, RFC 9449 §7.1 and §12.2).
 */
public enum VerificationError {
  /** RFC 6750 §3.1: the request is malformed (for example two {@code Authorization} values). */
  INVALID_REQUEST("invalid_request"),
  /** RFC 6750 §3.1: the access token is expired, revoked, malformed or otherwise invalid. */
  INVALID_TOKEN("invalid_token"),
  /** RFC 6750 §3.1: the token lacks a scope the call requires. */
  INSUFFICIENT_SCOPE("insufficient_scope"),
  /** RFC 9449 §7.1: the DPoP proof is missing or invalid. */
  INVALID_DPOP_PROOF("invalid_dpop_proof"),
  /** RFC 9449 §8 and §9: the server requires a nonce it chose in the DPoP proof. */
  USE_DPOP_NONCE("use_dpop_nonce"),
  /**
   * RFC 6749 §5.2-style {@code temporarily_unavailable}: the verifier cannot decide right now, e.g. its
   * revocation list is staler than allowed or it has never fetched the broker's keys. Not the caller's fault;
   * a resource server answers 503 / gRPC {@code UNAVAILABLE}.
   */
  TEMPORARILY_UNAVAILABLE("temporarily_unavailable");

  private final String code;

  VerificationError(String code) {
    this.code = code;
  }

  /** The exact error code of the RFC, e.g. {@code invalid_token}. */
  public String code() {
    return code;
  }
}
