package io.tokenbroker.agent.keys;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.text.ParseException;

/**
 * A software EC P-256 DPoP key for devices without a PKCS#11 token. Its private JWK lives only in memory and
 * inside the encrypted state file.
 */
public final class SoftwareDpopKey implements DpopKey {
  private final ECKey key;
  private final JWSSigner signer;

  private SoftwareDpopKey(ECKey key) {
    this.key = key;
    try {
      this.signer = new ECDSASigner(key);
    } catch (JOSEException e) {
      throw new AgentException(ExitCodes.KEY, "unusable DPoP key: " + e.getMessage());
    }
  }

  public static SoftwareDpopKey generate() {
    try {
      return new SoftwareDpopKey(new ECKeyGenerator(Curve.P_256).generate());
    } catch (JOSEException e) {
      throw new AgentException(ExitCodes.KEY, "cannot generate a P-256 key: " + e.getMessage());
    }
  }

  /** Restores the key from its private JWK (as stored by {@link #privateJwkJson()}). */
  public static SoftwareDpopKey fromJwk(String privateJwk) {
    try {
      ECKey key = ECKey.parse(privateJwk);
      if (!key.isPrivate() || !Curve.P_256.equals(key.getCurve())) {
        throw new AgentException(ExitCodes.STORE, "the stored DPoP key is not a private P-256 key");
      }
      return new SoftwareDpopKey(key);
    } catch (ParseException e) {
      throw new AgentException(ExitCodes.STORE, "the stored DPoP key cannot be parsed");
    }
  }

  /** The private JWK, for the encrypted store only. */
  public String privateJwkJson() {
    return key.toJSONString();
  }

  @Override
  public ECKey publicJwk() {
    return key.toPublicJWK();
  }

  @Override
  public JWSSigner signer() {
    return signer;
  }

  @Override
  public String description() {
    return "software P-256 key in the encrypted state file";
  }
}
