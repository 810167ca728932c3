package io.tokenbroker.verifier.dpop;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Set;

/**
 * EdDSA (Ed25519, RFC 8037 §3.1) verification of DPoP proofs through the JDK's own Ed25519 (JDK 15+), since
 * Nimbus' Ed25519 verifier needs another library. Only verification: the broker never signs with EdDSA (there
 * is no EdDSA in SunPKCS11).
 */
final class Ed25519Verifier implements JWSVerifier {
  /** DER prefix of an X.509 SubjectPublicKeyInfo for Ed25519 (RFC 8410 §4), followed by the 32-byte key. */
  private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

  private final PublicKey publicKey;
  private final JCAContext jcaContext = new JCAContext();

  Ed25519Verifier(OctetKeyPair jwk) throws JOSEException {
    if (!Curve.Ed25519.equals(jwk.getCurve())) {
      throw new JOSEException("only Ed25519 keys are accepted for EdDSA");
    }
    byte[] x = jwk.getX().decode();
    if (x.length != 32) {
      throw new JOSEException("an Ed25519 public key is 32 bytes");
    }
    byte[] spki = new byte[SPKI_PREFIX.length + x.length];
    System.arraycopy(SPKI_PREFIX, 0, spki, 0, SPKI_PREFIX.length);
    System.arraycopy(x, 0, spki, SPKI_PREFIX.length, x.length);
    try {
      publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException e) {
      throw new JOSEException("not an Ed25519 public key", e);
    }
  }

  @Override
  public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(publicKey);
      verifier.update(signingInput);
      return verifier.verify(signature.decode());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return Set.of(JWSAlgorithm.EdDSA);
  }

  @Override
  public JCAContext getJCAContext() {
    return jcaContext;
  }
}
