package io.tokenbroker.agent.keys;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A P-256 DPoP key generated inside the device's PKCS#11 token (sensitive, never extractable, sign only, per the
 * configuration's template). SunPKCS11 lists a private key under an alias only once a certificate is stored
 * with it, so a self-signed certificate made with the key itself is stored beside it; it has no other use.
 * Signatures come from the token through Nimbus' {@link ECDSASigner} with the PKCS#11 provider.
 */
public final class Pkcs11DpopKey implements DpopKey {
  /** The alias ({@code CKA_ID}/{@code CKA_LABEL}) of the agent's DPoP key in the token. */
  public static final String ALIAS = "device-agent-dpop";

  private final ECKey publicJwk;
  private final ECDSASigner signer;
  private final String description;

  private Pkcs11DpopKey(ECPublicKey publicKey, PrivateKey privateKey, Pkcs11Device device) throws JOSEException {
    this.publicJwk = new ECKey.Builder(Curve.P_256, publicKey).build();
    this.signer = new ECDSASigner(privateKey, Curve.P_256);
    this.signer.getJCAContext().setProvider(device.provider());
    this.description = "P-256 key '" + ALIAS + "' in the " + device.description();
  }

  /** The key under {@link #ALIAS}, generated in the token first if {@code create} and it is missing. */
  public static Pkcs11DpopKey openOrCreate(Pkcs11Device device, boolean create) {
    try {
      var ks = device.keyStore();
      if (!ks.containsAlias(ALIAS)) {
        if (!create) {
          throw new AgentException(ExitCodes.KEY, "the DPoP key '" + ALIAS + "' is missing from the "
              + device.description() + "; run 'device-agent login' to enrol again");
        }
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", device.provider());
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair pair = generator.generateKeyPair();
        ks.setKeyEntry(ALIAS, pair.getPrivate(), null, new Certificate[] {selfSigned(pair, device)});
      }
      PrivateKey privateKey = (PrivateKey) ks.getKey(ALIAS, null);
      X509Certificate cert = (X509Certificate) ks.getCertificate(ALIAS);
      return new Pkcs11DpopKey((ECPublicKey) cert.getPublicKey(), privateKey, device);
    } catch (AgentException e) {
      throw e;
    } catch (Exception e) {
      throw new AgentException(ExitCodes.KEY, "cannot use the DPoP key in the " + device.description() + ": "
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
  }

  private static X509Certificate selfSigned(KeyPair pair, Pkcs11Device device) throws Exception {
    X500Name name = new X500Name("CN=" + ALIAS);
    Instant now = Instant.now();
    var builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
        Date.from(now.minus(1, ChronoUnit.DAYS)), Date.from(now.plus(36500, ChronoUnit.DAYS)), name, pair.getPublic());
    var signer = new JcaContentSignerBuilder("SHA256withECDSA").setProvider(device.provider())
        .build(pair.getPrivate());
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }

  /** Destroys the key in the token (logout). */
  public static void destroy(Pkcs11Device device) {
    try {
      if (device.keyStore().containsAlias(ALIAS)) {
        device.keyStore().deleteEntry(ALIAS);
      }
    } catch (Exception e) {
      throw new AgentException(ExitCodes.KEY, "cannot delete the DPoP key from the " + device.description());
    }
  }

  @Override
  public ECKey publicJwk() {
    return publicJwk;
  }

  @Override
  public JWSSigner signer() {
    return signer;
  }

  @Override
  public String description() {
    return description;
  }
}
