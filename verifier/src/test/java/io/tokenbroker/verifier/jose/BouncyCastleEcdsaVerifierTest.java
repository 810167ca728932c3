package io.tokenbroker.verifier.jose;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import java.util.Random;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.math.ec.custom.sec.SecP256R1Curve;
import org.bouncycastle.math.ec.custom.sec.SecP384R1Curve;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BouncyCastleEcdsaVerifierTest {
  private static final Random RANDOM = new Random(20261202);

  @ParameterizedTest
  @CsvSource({"ES256, P-256", "ES384, P-384"})
  void agreesWithNimbusOwnVerifierOnGenuineAndDamagedSignatures(String alg, String curve) throws Exception {
    JWSAlgorithm algorithm = JWSAlgorithm.parse(alg);
    ECKey key = new ECKeyGenerator(Curve.parse(curve)).generate();
    BouncyCastleEcdsaVerifier ours = new BouncyCastleEcdsaVerifier(algorithm, key.toPublicJWK());
    ECDSAVerifier nimbus = new ECDSAVerifier(key.toPublicJWK());
    int accepted = 0;
    for (int i = 0; i < 60; i++) {
      byte[] payload = new byte[1 + RANDOM.nextInt(300)];
      RANDOM.nextBytes(payload);
      JWSObject jws = new JWSObject(new JWSHeader(algorithm), new Payload(payload));
      jws.sign(new ECDSASigner(key));
      byte[] signingInput = jws.getSigningInput();
      byte[] signature = jws.getSignature().decode();
      if (i % 3 == 1) {
        signature[RANDOM.nextInt(signature.length)] ^= (byte) (1 + RANDOM.nextInt(255));
      } else if (i % 3 == 2) {
        signingInput[RANDOM.nextInt(signingInput.length)] ^= 0x01;
      }
      Base64URL s = Base64URL.encode(signature);
      boolean expected = nimbus.verify(jws.getHeader(), signingInput, s);
      assertThat(ours.verify(jws.getHeader(), signingInput, s)).as("signature %d", i).isEqualTo(expected);
      accepted += expected ? 1 : 0;
    }
    assertThat(accepted).as("exactly the undamaged third verifies").isEqualTo(20);
  }

  @ParameterizedTest
  @CsvSource({"ES256, P-256", "ES384, P-384"})
  void refusesSignaturesOfTheWrongSizeOrAlgorithm(String alg, String curve) throws Exception {
    JWSAlgorithm algorithm = JWSAlgorithm.parse(alg);
    ECKey key = new ECKeyGenerator(Curve.parse(curve)).generate();
    JWSObject jws = new JWSObject(new JWSHeader(algorithm), new Payload("x"));
    jws.sign(new ECDSASigner(key));
    BouncyCastleEcdsaVerifier ours = new BouncyCastleEcdsaVerifier(algorithm, key.toPublicJWK());
    byte[] signature = jws.getSignature().decode();
    byte[] longer = java.util.Arrays.copyOf(signature, signature.length + 1);
    assertThat(ours.verify(jws.getHeader(), jws.getSigningInput(), jws.getSignature())).isTrue();
    assertThat(ours.verify(jws.getHeader(), jws.getSigningInput(), Base64URL.encode(longer))).isFalse();
    JWSAlgorithm other = algorithm.equals(JWSAlgorithm.ES256) ? JWSAlgorithm.ES384 : JWSAlgorithm.ES256;
    assertThat(ours.verify(new JWSHeader(other), jws.getSigningInput(), jws.getSignature())).isFalse();
  }

  @ParameterizedTest
  @CsvSource({"P-256", "P-384"})
  void theKeyIsOnBouncyCastlesSpecialisedCurveNotGenericBigIntegerArithmetic(String curve) throws Exception {
    ECKey key = new ECKeyGenerator(Curve.parse(curve)).generate();
    ECPublicKeyParameters bc = BouncyCastleEcdsaVerifier.namedCurveKey(key.toPublicJWK());
    // The generic curve made every verification about five times slower (bench/results, verifier cells).
    assertThat(bc.getParameters().getCurve())
        .isInstanceOf(curve.equals("P-256") ? SecP256R1Curve.class : SecP384R1Curve.class);
    assertThat(bc.getQ().getAffineXCoord().toBigInteger()).isEqualTo(key.getX().decodeToBigInteger());
    assertThat(bc.getQ().getAffineYCoord().toBigInteger()).isEqualTo(key.getY().decodeToBigInteger());
  }
}
