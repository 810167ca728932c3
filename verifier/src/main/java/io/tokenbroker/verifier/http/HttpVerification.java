package io.tokenbroker.verifier.http;

import io.tokenbroker.verifier.VerifiedPrincipal;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of {@link HttpAccessTokenVerifier#verify}: a principal, or what to answer instead.
 *
 * @param principal the verified caller; empty when refused
 * @param status the HTTP status to answer when refused: 400, 401, 403 or 503 (0 when accepted)
 * @param wwwAuthenticate the {@code WWW-Authenticate} values to send when refused (RFC 6750 §3, RFC 9449 §7.1)
 * @param dpopNonce a fresh {@code DPoP-Nonce} header value to send (RFC 9449 §9), if any
 */
public record HttpVerification(Optional<VerifiedPrincipal> principal, int status, List<String> wwwAuthenticate,
    Optional<String> dpopNonce) {

  /** Whether the request may proceed. */
  public boolean accepted() {
    return principal.isPresent();
  }
}
