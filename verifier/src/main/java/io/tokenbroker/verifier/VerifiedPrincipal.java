package io.tokenbroker.verifier;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * The caller of a request whose access token passed every check of {@link TokenVerifier}: genuine, unexpired,
 * unrevoked, and presented by the key or certificate it is bound to. Only the verifier makes these.
 *
 * <p>Thread-safety: immutable.
 *
 * @param deviceId the token's {@code sub}, the broker's device id (RFC 9068 §2.2)
 * @param clientId the token's {@code client_id}: the product the device belongs to (RFC 9068 §2.2)
 * @param scopes the token's {@code scope}, split on spaces (RFC 9068 §2.2.3)
 * @param audiences the token's {@code aud} (RFC 7519 §4.1.3)
 * @param binding the key or certificate the caller proved it holds (RFC 9449 §6, RFC 8705 §3)
 * @param tokenId the token's {@code jti} (RFC 7519 §4.1.7), for logs and audit
 * @param refreshFamilyId the token's {@code sid}: the refresh family it was issued from, or null
 * @param issuedAt the token's {@code iat}
 * @param expiresAt the token's {@code exp}
 */
public record VerifiedPrincipal(String deviceId, String clientId, Set<String> scopes, Set<String> audiences,
    Binding binding, String tokenId, String refreshFamilyId, Instant issuedAt, Instant expiresAt) {

  public VerifiedPrincipal {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(clientId, "clientId");
    scopes = Set.copyOf(scopes);
    audiences = Set.copyOf(audiences);
    Objects.requireNonNull(binding, "binding");
    Objects.requireNonNull(tokenId, "tokenId");
    Objects.requireNonNull(issuedAt, "issuedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** Whether the token carries every one of {@code required} (RFC 6750 §3.1 {@code insufficient_scope} otherwise). */
  public boolean hasScopes(Set<String> required) {
    return scopes.containsAll(required);
  }
}
