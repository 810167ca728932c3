package io.tokenbroker.broker.keys;

import com.nimbusds.jose.JWSAlgorithm;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.Locale;

/**
 * The JWS algorithms the broker signs with (RFC 7518 §3.4 ES256, §3.5 PS256). ES256 is the default: an RSA
 * signature in a SoftHSM token costs about twelve times an ECDSA one (DESIGN.md).
 */
public enum SigningAlgorithm {
  /** ECDSA P-256 with SHA-256; the JOSE signature is R||S (64 bytes), not DER (RFC 7518 §3.4). */
  ES256(JWSAlgorithm.ES256, "EC", new ECGenParameterSpec("secp256r1"), "SHA256withECDSAinP1363Format", null),
  /** RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (RFC 7518 §3.5), RSA 3072. */
  PS256(JWSAlgorithm.PS256, "RSA", new RSAKeyGenParameterSpec(3072, RSAKeyGenParameterSpec.F4), "RSASSA-PSS",
      new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));

  private final JWSAlgorithm jws;
  private final String keyAlgorithm;
  private final AlgorithmParameterSpec keyGenSpec;
  private final String signatureAlgorithm;
  private final AlgorithmParameterSpec signatureParams;

  SigningAlgorithm(JWSAlgorithm jws, String keyAlgorithm, AlgorithmParameterSpec keyGenSpec,
      String signatureAlgorithm, AlgorithmParameterSpec signatureParams) {
    this.jws = jws;
    this.keyAlgorithm = keyAlgorithm;
    this.keyGenSpec = keyGenSpec;
    this.signatureAlgorithm = signatureAlgorithm;
    this.signatureParams = signatureParams;
  }

  /** Parses "ES256" / "PS256", case-insensitively. */
  public static SigningAlgorithm parse(String name) {
    try {
      return valueOf(name.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unsupported signing algorithm '" + name + "' (use ES256 or PS256)");
    }
  }

  public JWSAlgorithm jwsAlgorithm() {
    return jws;
  }

  /** The JCA key algorithm ("EC", "RSA"). */
  public String keyAlgorithm() {
    return keyAlgorithm;
  }

  /** Parameters for the key-pair generator (curve or modulus size). */
  public AlgorithmParameterSpec keyGenSpec() {
    return keyGenSpec;
  }

  /** A signature engine from {@code provider} that outputs the JOSE signature format directly. */
  public Signature newSignature(Provider provider) throws GeneralSecurityException {
    Signature signature = Signature.getInstance(signatureAlgorithm, provider);
    if (signatureParams != null) {
      signature.setParameter(signatureParams);
    }
    return signature;
  }

  /** The same engine from the default providers, for verifying with a public key. */
  public Signature newVerifier() throws GeneralSecurityException {
    Signature signature = Signature.getInstance(signatureAlgorithm);
    if (signatureParams != null) {
      signature.setParameter(signatureParams);
    }
    return signature;
  }
}
