package io.tokenbroker.agent.keys;

import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.ECKey;

/** The device's DPoP key pair (RFC 9449 §4): only the public half is ever shown; signing goes through here. */
public interface DpopKey {
  /** The public key as a JWK, for the proof header's {@code jwk}. */
  ECKey publicJwk();

  /** A Nimbus signer producing ES256 signatures in JOSE (R||S) form. */
  JWSSigner signer();

  /** RFC 7638 thumbprint of the public key: the {@code cnf.jkt} of the device's tokens. */
  default String thumbprint() {
    try {
      return publicJwk().computeThumbprint().toString();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** For messages: where the key lives. */
  String description();
}
