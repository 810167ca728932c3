package io.tokenbroker.verifier.jose;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.JWK;

/** RFC 7638 JWK thumbprints, used as key ids and (by RFC 9449 §6.1) as DPoP {@code jkt} values. */
public final class JwkThumbprint {
  private JwkThumbprint() {}

  /** base64url(SHA-256(the JWK's required members in lexicographic order)), RFC 7638 §3. */
  public static String sha256(JWK jwk) {
    try {
      return jwk.computeThumbprint("SHA-256").toString();
    } catch (JOSEException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
