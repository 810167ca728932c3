package io.tokenbroker.broker.keys;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.hsm.TokenKeyHandle;
import io.tokenbroker.verifier.jose.JwkThumbprint;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.Date;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Signing keys generated and kept inside a PKCS#11 token, reached through a SunPKCS11 provider and its
 * {@link KeyStore}.
 *
 * <p>Key generation follows the provider's template (see {@code Pkcs11ConfigTemplate}): the private key is a
 * token object, sensitive, never extractable, and may only sign. SunPKCS11 lists a private key under an alias
 * only once a certificate is stored with it, so each key gets a self-signed "container" certificate signed by
 * the key itself; the alias ({@code tokenbroker-jws-<kid>}) becomes the objects' {@code CKA_ID} and survives
 * restarts. The certificate is never used for trust.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Pkcs11SigningKeyStore implements SigningKeyStore {
  static final String ALIAS_PREFIX = "tokenbroker-jws-";

  private final Pkcs11Token token;
  private final Provider provider;
  private final Clock clock;
  private final SigningObserver observer;
  private final Map<String, SigningKey> loaded = new ConcurrentHashMap<>();

  public Pkcs11SigningKeyStore(Pkcs11Token token, Clock clock) {
    this(token, clock, SigningObserver.NONE);
  }

  /** @param observer hears the outcome and duration of every signature made with this store's keys */
  public Pkcs11SigningKeyStore(Pkcs11Token token, Clock clock, SigningObserver observer) {
    this.token = token;
    this.provider = token.provider();
    this.clock = clock;
    this.observer = observer;
  }

  @Override
  public SigningKey generate(SigningAlgorithm algorithm) {
    KeyPair pair;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm.keyAlgorithm(), provider);
      generator.initialize(algorithm.keyGenSpec());
      pair = generator.generateKeyPair();
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyOperationException("the HSM refused to generate a " + algorithm + " key pair: "
          + Pkcs11Errors.describe(e), e);
    }
    PublicKey publicKey = portable(pair.getPublic());
    JWK jwk = publicJwk(algorithm, publicKey);
    String kid = jwk.getKeyID();
    try {
      X509Certificate container = containerCertificate(algorithm, kid, pair.getPrivate(), publicKey);
      token.keyStore().setKeyEntry(ALIAS_PREFIX + kid, pair.getPrivate(), null, new Certificate[] {container});
    } catch (GeneralSecurityException | OperatorCreationException | RuntimeException e) {
      throw new KeyOperationException("the HSM refused to store the new " + algorithm + " key: "
          + Pkcs11Errors.describe(e), e);
    }
    // Re-read from the store so the handle in use is the persistent token object under its alias.
    return find(kid).orElseThrow(() -> new KeyOperationException("the HSM did not keep the new key " + kid));
  }

  @Override
  public Optional<SigningKey> find(String kid) {
    SigningKey cached = loaded.get(kid);
    if (cached != null) {
      return Optional.of(cached);
    }
    String alias = ALIAS_PREFIX + kid;
    try {
      KeyStore keyStore = token.keyStore();
      if (!keyStore.isKeyEntry(alias)) {
        return Optional.empty();
      }
      PrivateKey privateKey = (PrivateKey) keyStore.getKey(alias, null);
      Certificate certificate = keyStore.getCertificate(alias);
      if (privateKey == null || certificate == null) {
        return Optional.empty();
      }
      PublicKey publicKey = portable(certificate.getPublicKey());
      SigningAlgorithm algorithm = algorithmOf(publicKey);
      JWK jwk = publicJwk(algorithm, publicKey);
      if (!jwk.getKeyID().equals(kid)) {
        throw new KeyOperationException("HSM object " + alias + " holds a key whose thumbprint is "
            + jwk.getKeyID() + ", not " + kid);
      }
      SigningKey key = new Pkcs11SigningKey(kid, alias, algorithm, jwk, privateKey, token, observer);
      loaded.put(kid, key);
      return Optional.of(key);
    } catch (GeneralSecurityException | RuntimeException e) {
      if (e instanceof KeyOperationException koe) {
        throw koe;
      }
      throw new KeyOperationException("cannot read key " + kid + " from the HSM: " + Pkcs11Errors.describe(e), e);
    }
  }

  @Override
  public Set<String> kids() {
    try {
      Set<String> kids = new TreeSet<>();
      for (String alias : Collections.list(token.keyStore().aliases())) {
        if (alias.startsWith(ALIAS_PREFIX)) {
          kids.add(alias.substring(ALIAS_PREFIX.length()));
        }
      }
      return kids;
    } catch (GeneralSecurityException e) {
      throw new KeyOperationException("cannot list the HSM's keys: " + Pkcs11Errors.describe(e), e);
    }
  }

  @Override
  public void destroy(String kid) {
    loaded.remove(kid);
    try {
      String alias = ALIAS_PREFIX + kid;
      KeyStore keyStore = token.keyStore();
      if (keyStore.containsAlias(alias)) {
        keyStore.deleteEntry(alias);
      }
    } catch (GeneralSecurityException e) {
      throw new KeyOperationException("cannot destroy key " + kid + " in the HSM: " + Pkcs11Errors.describe(e), e);
    }
  }

  /** The public key in the JDK's own classes, so that JWK encoding and verification need no HSM call. */
  private static PublicKey portable(PublicKey key) {
    try {
      return KeyFactory.getInstance(key.getAlgorithm()).generatePublic(new X509EncodedKeySpec(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new KeyOperationException("cannot decode a public key from the HSM", e);
    }
  }

  private static SigningAlgorithm algorithmOf(PublicKey key) {
    String algorithm = key.getAlgorithm().toUpperCase(Locale.ROOT);
    if (algorithm.equals("EC")) {
      return SigningAlgorithm.ES256;
    }
    if (algorithm.equals("RSA")) {
      return SigningAlgorithm.PS256;
    }
    throw new KeyOperationException("unsupported key type in the HSM: " + key.getAlgorithm());
  }

  static JWK publicJwk(SigningAlgorithm algorithm, PublicKey publicKey) {
    JWK bare = switch (algorithm) {
      case ES256 -> new ECKey.Builder(Curve.P_256, (ECPublicKey) publicKey).build();
      case PS256 -> new RSAKey.Builder((RSAPublicKey) publicKey).build();
    };
    String kid = JwkThumbprint.sha256(bare);
    return switch (algorithm) {
      case ES256 -> new ECKey.Builder(Curve.P_256, (ECPublicKey) publicKey)
          .keyID(kid).algorithm(algorithm.jwsAlgorithm()).keyUse(KeyUse.SIGNATURE).build();
      case PS256 -> new RSAKey.Builder((RSAPublicKey) publicKey)
          .keyID(kid).algorithm(algorithm.jwsAlgorithm()).keyUse(KeyUse.SIGNATURE).build();
    };
  }

  private X509Certificate containerCertificate(SigningAlgorithm algorithm, String kid, PrivateKey privateKey,
      PublicKey publicKey) throws GeneralSecurityException, OperatorCreationException {
    // DER-encoded signature algorithms, as X.509 wants them; any mechanism the key may use will do here.
    String certAlgorithm = algorithm == SigningAlgorithm.ES256 ? "SHA256withECDSA" : "SHA256withRSA";
    ContentSigner signer = new JcaContentSignerBuilder(certAlgorithm).setProvider(provider).build(privateKey);
    Instant now = clock.instant();
    X500Name name = new X500Name("CN=" + kid + ",O=tokenbroker signing key");
    return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(
        name, BigInteger.valueOf(now.toEpochMilli()), Date.from(now.minus(Duration.ofMinutes(1))),
        Date.from(now.plus(Duration.ofDays(365L * 20))), name, publicKey).build(signer));
  }

  /** A key in the token. The PKCS#11 object is sensitive; only signing goes through it. */
  private static final class Pkcs11SigningKey implements SigningKey {
    private final String kid;
    private final SigningAlgorithm algorithm;
    private final JWK publicJwk;
    private final Pkcs11Token token;
    private final TokenKeyHandle privateKey;
    private final SigningObserver observer;

    Pkcs11SigningKey(String kid, String alias, SigningAlgorithm algorithm, JWK publicJwk, PrivateKey privateKey,
        Pkcs11Token token, SigningObserver observer) {
      this.observer = observer;
      this.kid = kid;
      this.algorithm = algorithm;
      this.publicJwk = publicJwk;
      this.token = token;
      this.privateKey = new TokenKeyHandle(token, alias, privateKey);
    }

    @Override
    public String kid() {
      return kid;
    }

    @Override
    public SigningAlgorithm algorithm() {
      return algorithm;
    }

    @Override
    public JWK publicJwk() {
      return publicJwk;
    }

    @Override
    public byte[] sign(byte[] signingInput) {
      long start = System.nanoTime();
      try {
        Signature signature = algorithm.newSignature(token.provider());
        signature.initSign(privateKey.get());
        signature.update(signingInput);
        byte[] signed = signature.sign();
        observer.signed(System.nanoTime() - start);
        return signed;
      } catch (GeneralSecurityException | RuntimeException e) {
        observer.failed(System.nanoTime() - start);
        token.noteFailure(e);
        throw new KeyOperationException("HSM signature with key " + kid + " failed: "
            + Pkcs11Errors.describe(e), e);
      }
    }

    @Override
    public String toString() {
      return "Pkcs11SigningKey[" + algorithm + ", kid=" + kid + "]";
    }
  }
}
