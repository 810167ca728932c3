package io.tokenbroker.e2e;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Map;

/** Reads the tokens and proofs the agent hands out. */
final class Jwts {
  private Jwts() {}

  static String jkt(String accessToken) throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> cnf = (Map<String, Object>) SignedJWT.parse(accessToken).getJWTClaimsSet().getClaim("cnf");
    return (String) cnf.get("jkt");
  }

  /** Verifies the proof with its own jwk and returns that key's thumbprint. */
  static String verifiedProofKey(String proof) throws Exception {
    SignedJWT jwt = SignedJWT.parse(proof);
    ECKey jwk = (ECKey) jwt.getHeader().getJWK();
    if (!jwt.verify(new ECDSAVerifier(jwk))) {
      throw new AssertionError("proof signature does not verify");
    }
    return jwk.computeThumbprint().toString();
  }

  static String ath(String accessToken) throws Exception {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII)));
  }

  static boolean contains(byte[] haystack, String needle) {
    byte[] n = needle.getBytes(StandardCharsets.US_ASCII);
    outer:
    for (int i = 0; i <= haystack.length - n.length; i++) {
      for (int j = 0; j < n.length; j++) {
        if (haystack[i + j] != n[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
