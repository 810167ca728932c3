package io.tokenbroker.verifier.dpop;

import java.time.Instant;

/**
 * A DPoP proof that passed every check of RFC 9449 §4.3 except replay, which needs the store.
 *
 * @param jkt RFC 7638 thumbprint of the proof's public key (the value tokens carry in {@code cnf.jkt})
 * @param jti the proof's unique identifier
 * @param issuedAt the proof's {@code iat}
 */
public record DpopProof(String jkt, String jti, Instant issuedAt) {}
