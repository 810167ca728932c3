package io.tokenbroker.broker.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.keys.SigningKey;
import java.util.Set;

/**
 * Nimbus {@link JWSSigner} over a {@link SigningKey}, so JOSE serialisation stays in Nimbus while the private
 * key stays in the HSM. The key already returns the JOSE signature format, so no transcoding happens here.
 */
final class SigningKeyJwsSigner implements JWSSigner {
  private final SigningKey key;
  private final JCAContext jcaContext = new JCAContext();

  SigningKeyJwsSigner(SigningKey key) {
    this.key = key;
  }

  @Override
  public Base64URL sign(JWSHeader header, byte[] signingInput) throws JOSEException {
    if (!key.algorithm().jwsAlgorithm().equals(header.getAlgorithm())) {
      throw new JOSEException("key " + key.kid() + " signs " + key.algorithm() + ", not " + header.getAlgorithm());
    }
    try {
      return Base64URL.encode(key.sign(signingInput));
    } catch (KeyOperationException e) {
      throw new JOSEException(e.getMessage(), e);
    }
  }

  @Override
  public Set<JWSAlgorithm> supportedJWSAlgorithms() {
    return Set.of(key.algorithm().jwsAlgorithm());
  }

  @Override
  public JCAContext getJCAContext() {
    return jcaContext;
  }
}
