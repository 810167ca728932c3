package io.tokenbroker.verifier.dpop;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.VerificationException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;

/**
 * Whatever arrives in a {@code dpop} header, the validator either refuses it with a {@link VerificationException}
 * (never another exception: that would be a 500 or a crashed call) or accepts a proof that an independent check
 * with the JDK's own providers also accepts: a {@code dpop+jwt} whose signature verifies with its public
 * {@code jwk}, for this method, with the thumbprint reported. Seeds are real ES256 and PS256 proofs and an HS256
 * one; runs over the committed inputs in every build, {@code fuzz/run} fuzzes it.
 */
class DpopProofFuzzTests {
  private static final String HTU = "https://broker.example/tokenbroker.v1.TokenService/Token";
  /** The seeds' iat: a fixed clock keeps them valid so the fuzzer starts from accepted proofs. */
  private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
  private static final DpopProofValidator VALIDATOR = new DpopProofValidator(Duration.ofSeconds(60), null,
      Clock.fixed(NOW, ZoneOffset.UTC));

  @FuzzTest
  void validateAcceptsOnlyProofsThatVerifyIndependently(byte[] input) throws Exception {
    String proof = new String(input, StandardCharsets.UTF_8);
    DpopProof accepted;
    try {
      accepted = VALIDATOR.validate(proof, "POST", HTU, null);
    } catch (VerificationException refused) {
      assertThat(refused.getMessage()).as("a refusal never echoes the proof").doesNotContain(proof.length() > 16
          ? proof : "\u0000never\u0000");
      return;
    }
    SignedJWT jwt = SignedJWT.parse(proof);
    assertThat(jwt.getHeader().getType().getType()).isEqualTo("dpop+jwt");
    JWK jwk = jwt.getHeader().getJWK();
    assertThat(jwk.isPrivate()).isFalse();
    assertThat(verifiesWithTheJdk(jwt, jwk)).as("signature verifies with the JDK's providers").isTrue();
    assertThat(jwt.getJWTClaimsSet().getStringClaim("htm")).isEqualTo("POST");
    assertThat(accepted.jkt()).isEqualTo(jwk.computeThumbprint().toString());
    assertThat(accepted.jti()).isEqualTo(jwt.getJWTClaimsSet().getJWTID());
  }

  private static boolean verifiesWithTheJdk(SignedJWT jwt, JWK jwk) throws Exception {
    if (jwk instanceof OctetKeyPair okp) {
      // SPKI prefix of an Ed25519 public key (RFC 8410), then the 32-byte key.
      byte[] spki = HexFormat.of().parseHex("302a300506032b6570032100" + HexFormat.of().formatHex(
          okp.getX().decode()));
      Signature ed = Signature.getInstance("Ed25519");
      ed.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki)));
      ed.update(jwt.getSigningInput());
      return ed.verify(jwt.getSignature().decode());
    }
    JWSVerifier verifier = jwk instanceof ECKey ec ? new ECDSAVerifier(ec) : new RSASSAVerifier((RSAKey) jwk);
    return jwt.verify(verifier);
  }
}
