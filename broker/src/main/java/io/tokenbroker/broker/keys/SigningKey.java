package io.tokenbroker.broker.keys;

import com.nimbusds.jose.jwk.JWK;

/**
 * A signing key whose private half stays inside its key store (an HSM in production). Callers get the key id,
 * the algorithm, the public JWK and a signing operation; never the private key material.
 *
 * <p>Implementations are thread-safe.
 */
public interface SigningKey {
  /** The key id: the RFC 7638 JWK thumbprint of the public key, base64url. */
  String kid();

  SigningAlgorithm algorithm();

  /** The public key as a JWK carrying {@code kid}, {@code alg} and {@code use=sig}. */
  JWK publicJwk();

  /**
   * Signs the JWS signing input (RFC 7515 §5.1 step 5) and returns the JWS signature bytes in JOSE format
   * (R||S for ECDSA).
   *
   * @throws KeyOperationException when the key store refuses or cannot be reached
   */
  byte[] sign(byte[] signingInput);
}
