package io.tokenbroker.broker.devicecert;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.RSAPrivateKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Set;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.pkcs.CertificationRequestInfo;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X962Parameters;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.junit.jupiter.api.Test;

/**
 * The CSR checks of IssueDeviceCertificate and RenewDeviceCertificate ({@link CsrPolicy}), fed arbitrary bytes
 * and requests built from arbitrary specifications. Whatever arrives, the policy either refuses it with
 * {@code INVALID_CSR} (never another exception: that would be an INTERNAL error) or returns a key that
 * {@link IndependentCsrCheck} also accepts, with the JDK's own providers: a P-256/P-384 or RSA 2048-8192 key
 * with a sound public exponent, whose holder signed the request, and which asks for no CA powers.
 *
 * <p>An input that does not start with the line {@code csr} is the DER itself. One that does is a
 * specification, one instruction per line, from which the harness builds and signs a request, so the fuzzer
 * gets past the signature: {@code key NAME} (see {@link #KEYS}), {@code sign ALGORITHM} (a JCA name, or
 * {@code forge}: a PKCS#1 v1.5 block that only verifies under a public exponent of 1), {@code sigalg OID}
 * (what the request claims instead), {@code subject NAME}, {@code ext OID CRITICAL HEX} (an extension in the
 * current extensionRequest), {@code extreq} (start another extensionRequest attribute), {@code attr OID HEX}
 * (an attribute whose value set is that DER), then {@code flip OFFSET HEXBYTE} and {@code cut LENGTH} on the
 * signed DER. Runs over the committed inputs in every build; {@code fuzz/run} fuzzes it.
 */
class CsrPolicyFuzzTests {
  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();
  /** The keys a specification may name: allowed ones, weak ones, and ones of types the broker does not take. */
  static final Map<String, KeyPair> KEYS = keys();

  @FuzzTest
  void publicKeyRefusesOrReturnsWhatAnIndependentCheckAccepts(byte[] input) throws Exception {
    byte[] der = isSpecification(input) ? build(new String(input, StandardCharsets.UTF_8).split("\n", -1)) : input;
    if (der == null) {
      return; // a specification the harness cannot build (unknown key, unparsable name): nothing to test
    }
    PublicKey accepted;
    try {
      accepted = CsrPolicy.publicKey(der);
    } catch (OAuthException refused) {
      assertThat(refused.error()).isEqualTo(OAuthError.INVALID_CSR);
      return;
    }
    IndependentCsrCheck.assertAcceptable(der, accepted);
  }

  @Test
  void theValidSeedsAreAcceptedSoTheFuzzerStartsPastEveryCheck() throws Exception {
    for (String seed : List.of("seed-p256.der", "seed-spec-p256", "seed-spec-p384", "seed-spec-rsa2048",
        "seed-spec-rsa2048-pss", "seed-spec-rsa-exponent-3")) {
      byte[] input = seed(seed);
      byte[] der = isSpecification(input) ? build(new String(input, StandardCharsets.UTF_8).split("\n", -1)) : input;
      IndependentCsrCheck.assertAcceptable(der, CsrPolicy.publicKey(der));
    }
  }

  private static boolean isSpecification(byte[] input) {
    return input.length >= 4 && new String(input, 0, 4, StandardCharsets.ISO_8859_1).equals("csr\n");
  }

  /** The DER of the request {@code lines} specify, or null if the harness cannot build it. */
  static byte[] build(String[] lines) throws IOException, GeneralSecurityException {
    KeyPair key = KEYS.get("p256");
    String sign = null;
    ASN1ObjectIdentifier claimedAlgorithm = null;
    X500Name subject = new X500Name("CN=device");
    List<List<Extension>> extensionRequests = new ArrayList<>();
    List<Attribute> attributes = new ArrayList<>();
    List<UnaryOperator<byte[]>> damage = new ArrayList<>();
    for (String line : Arrays.copyOfRange(lines, 1, lines.length)) {
      String[] w = line.split(" ", 4);
      try {
        switch (w[0]) {
          case "key" -> key = KEYS.get(w[1]);
          case "sign" -> sign = w[1];
          case "sigalg" -> claimedAlgorithm = new ASN1ObjectIdentifier(w[1]);
          case "subject" -> subject = new X500Name(line.substring("subject ".length()));
          case "extreq" -> extensionRequests.add(new ArrayList<>());
          case "ext" -> {
            if (extensionRequests.isEmpty()) {
              extensionRequests.add(new ArrayList<>());
            }
            extensionRequests.get(extensionRequests.size() - 1).add(new Extension(new ASN1ObjectIdentifier(w[1]),
                Boolean.parseBoolean(w[2]), new DEROctetString(HexFormat.of().parseHex(w[3]))));
          }
          case "attr" -> attributes.add(new Attribute(new ASN1ObjectIdentifier(w[1]), Objects.requireNonNull(
              ASN1Set.getInstance(ASN1Primitive.fromByteArray(HexFormat.of().parseHex(w[2]))), "no value set")));
          case "flip" -> {
            int offset = Integer.parseInt(w[1]);
            byte mask = (byte) Integer.parseInt(w[2], 16);
            damage.add(d -> {
              if (d.length > 0) { // an earlier cut may have left nothing to flip
                d[Math.floorMod(offset, d.length)] ^= mask;
              }
              return d;
            });
          }
          case "cut" -> {
            int length = Integer.parseInt(w[1]);
            damage.add(d -> Arrays.copyOf(d, Math.floorMod(length, d.length + 1)));
          }
          default -> { } // an unknown instruction is ignored, as a comment would be
        }
      } catch (RuntimeException | IOException malformedInstruction) {
        return null;
      }
    }
    if (key == null) {
      return null;
    }
    ASN1EncodableVector attrs = new ASN1EncodableVector();
    for (List<Extension> request : extensionRequests) {
      // A SEQUENCE rather than Extensions, which cannot be empty: an empty request is for the policy to judge.
      attrs.add(new Attribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest,
          new DERSet(new DERSequence(request.toArray(Extension[]::new)))));
    }
    attributes.forEach(attrs::add);
    CertificationRequestInfo info;
    try {
      info = new CertificationRequestInfo(subject, spki(key), new DERSet(attrs));
    } catch (RuntimeException e) {
      return null;
    }
    byte[] tbs = info.getEncoded(ASN1Encoding.DER);
    String algorithm = sign != null ? sign : defaultAlgorithm(key.getPublic());
    AlgorithmIdentifier signatureAlgorithm;
    byte[] signature;
    try {
      if (algorithm.equals("forge")) {
        signatureAlgorithm = new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE);
        signature = pkcs1Block(tbs, ((RSAPublicKey) key.getPublic()).getModulus());
      } else {
        signatureAlgorithm = new DefaultSignatureAlgorithmIdentifierFinder().find(algorithm);
        Signature signer = Signature.getInstance(algorithm, BOUNCY_CASTLE);
        ASN1Encodable parameters = signatureAlgorithm.getParameters();
        if (parameters != null && !DERNull.INSTANCE.equals(parameters)) {
          // RSASSA-PSS: the signer must use the parameters the request states.
          AlgorithmParameters p = AlgorithmParameters.getInstance(signatureAlgorithm.getAlgorithm().getId(),
              BOUNCY_CASTLE);
          p.init(parameters.toASN1Primitive().getEncoded());
          signer.setParameter(p.getParameterSpec(AlgorithmParameterSpec.class));
        }
        signer.initSign(key.getPrivate());
        signer.update(tbs);
        signature = signer.sign();
      }
    } catch (RuntimeException | GeneralSecurityException e) {
      return null; // an algorithm that does not fit the key
    }
    if (claimedAlgorithm != null) {
      signatureAlgorithm = new AlgorithmIdentifier(claimedAlgorithm, signatureAlgorithm.getParameters());
    }
    byte[] der = new CertificationRequest(info, signatureAlgorithm, new DERBitString(signature))
        .getEncoded(ASN1Encoding.DER);
    for (UnaryOperator<byte[]> d : damage) {
      der = d.apply(der);
    }
    return der;
  }

  private static SubjectPublicKeyInfo spki(KeyPair key) {
    SubjectPublicKeyInfo info = SubjectPublicKeyInfo.getInstance(key.getPublic().getEncoded());
    if (key == KEYS.get("p256-explicit")) {
      // The P-256 key with the curve spelled out instead of named (RFC 5480 §2.1.1 forbids that in PKIX).
      X9ECParameters p256 = ECNamedCurveTable.getByName("P-256");
      return new SubjectPublicKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey,
          new X962Parameters(p256)), info.getPublicKeyData().getBytes());
    }
    return info;
  }

  private static String defaultAlgorithm(PublicKey key) {
    return switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "DSA" -> "SHA256withDSA";
      default -> key.getAlgorithm(); // Ed25519
    };
  }

  /** EMSA-PKCS1-v1_5 (RFC 8017 §9.2) of {@code tbs} with SHA-256: the "signature" when the exponent is 1. */
  private static byte[] pkcs1Block(byte[] tbs, BigInteger modulus) throws GeneralSecurityException, IOException {
    byte[] digestInfo = new DigestInfo(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256, DERNull.INSTANCE),
        MessageDigest.getInstance("SHA-256").digest(tbs)).getEncoded(ASN1Encoding.DER);
    byte[] block = new byte[(modulus.bitLength() + 7) / 8];
    block[1] = 0x01;
    Arrays.fill(block, 2, block.length - digestInfo.length - 1, (byte) 0xff);
    System.arraycopy(digestInfo, 0, block, block.length - digestInfo.length, digestInfo.length);
    return block;
  }

  private static Map<String, KeyPair> keys() {
    try {
      Map<String, KeyPair> keys = new LinkedHashMap<>();
      keys.put("p256", ec("secp256r1", null));
      keys.put("p256-explicit", ec("secp256r1", null));
      keys.put("p384", ec("secp384r1", null));
      keys.put("p521", ec("secp521r1", null));
      keys.put("k256", ec("secp256k1", BOUNCY_CASTLE));
      keys.put("rsa2048", rsa(2048, RSAKeyGenParameterSpec.F4));
      keys.put("rsa1024", rsa(1024, RSAKeyGenParameterSpec.F4));
      keys.put("rsa-exponent-3", rsa(2048, RSAKeyGenParameterSpec.F0));
      keys.put("rsa-exponent-1", withExponent(keys.get("rsa2048"), BigInteger.ONE, null));
      keys.put("rsa-huge-exponent", hugeExponent(keys.get("rsa2048")));
      KeyPairGenerator ed = KeyPairGenerator.getInstance("Ed25519");
      keys.put("ed25519", ed.generateKeyPair());
      KeyPairGenerator dsa = KeyPairGenerator.getInstance("DSA");
      dsa.initialize(2048);
      keys.put("dsa2048", dsa.generateKeyPair());
      return Map.copyOf(keys);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair ec(String curve, Provider provider) throws GeneralSecurityException {
    KeyPairGenerator g = provider == null ? KeyPairGenerator.getInstance("EC")
        : KeyPairGenerator.getInstance("EC", provider);
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static KeyPair rsa(int bits, BigInteger exponent) throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(new RSAKeyGenParameterSpec(bits, exponent));
    return g.generateKeyPair();
  }

  /** The modulus of {@code base} with another public exponent, and (if given) its matching private one. */
  private static KeyPair withExponent(KeyPair base, BigInteger e, BigInteger d) throws GeneralSecurityException {
    BigInteger n = ((RSAPublicKey) base.getPublic()).getModulus();
    // Bouncy Castle's key factory: the JDK's refuses exponents below 3.
    KeyFactory rsa = KeyFactory.getInstance("RSA", BOUNCY_CASTLE);
    PublicKey pub = rsa.generatePublic(new RSAPublicKeySpec(n, e));
    PrivateKey priv = d == null ? base.getPrivate() : rsa.generatePrivate(new RSAPrivateKeySpec(n, d));
    return new KeyPair(pub, priv);
  }

  /** A genuine key pair whose public exponent is as long as the modulus (a small private exponent). */
  private static KeyPair hugeExponent(KeyPair base) throws GeneralSecurityException {
    RSAPrivateCrtKey crt = (RSAPrivateCrtKey) base.getPrivate();
    BigInteger phi = crt.getPrimeP().subtract(BigInteger.ONE).multiply(crt.getPrimeQ().subtract(BigInteger.ONE));
    SecureRandom random = new SecureRandom();
    BigInteger d;
    do {
      d = new BigInteger(1024, random).setBit(0);
    } while (!d.gcd(phi).equals(BigInteger.ONE));
    return withExponent(base, d.modInverse(phi), d);
  }

  private static byte[] seed(String name) throws IOException {
    try (InputStream in = CsrPolicyFuzzTests.class.getResourceAsStream(
        "CsrPolicyFuzzTestsInputs/publicKeyRefusesOrReturnsWhatAnIndependentCheckAccepts/" + name)) {
      return in.readAllBytes();
    }
  }
}
