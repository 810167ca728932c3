package io.tokenbroker.verifier.token;

import io.tokenbroker.verifier.Binding;
import java.time.Instant;
import java.util.Set;

/**
 * The claims of an access token whose signature, issuer, audience and times passed the RFC 9068 §4 checks. It
 * is not yet known whether the caller holds the key it is bound to, nor whether it was revoked.
 *
 * @param deviceId {@code sub}
 * @param clientId {@code client_id}
 * @param scopes {@code scope}, split on spaces
 * @param audiences {@code aud}
 * @param jti {@code jti}
 * @param refreshFamilyId {@code sid}, or null
 * @param issuedAt {@code iat}
 * @param expiresAt {@code exp}
 * @param binding {@code cnf}
 */
public record AccessToken(String deviceId, String clientId, Set<String> scopes, Set<String> audiences, String jti,
    String refreshFamilyId, Instant issuedAt, Instant expiresAt, Binding binding) {}
