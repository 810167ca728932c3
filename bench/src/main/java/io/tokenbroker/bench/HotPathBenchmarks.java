package io.tokenbroker.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.hsm.HsmPin;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.keys.Pkcs11SigningKeyStore;
import io.tokenbroker.broker.keys.SigningAlgorithm;
import io.tokenbroker.broker.keys.SigningKey;
import io.tokenbroker.broker.token.AccessTokenIssuer;
import io.tokenbroker.broker.token.AccessTokenSigner;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.jwks.SigningKeyCache;
import io.tokenbroker.verifier.token.AccessToken;
import io.tokenbroker.verifier.token.AccessTokenValidator;
import java.net.URI;
import java.io.PrintStream;
import java.nio.file.Path;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * JMH micro-benchmarks of the hot paths behind the end-to-end figures, single-threaded, in microseconds per
 * operation: minting an access token (the broker's own {@link AccessTokenIssuer} signing in a SoftHSM2 token
 * through SunPKCS11) next to the bare HSM signature, DPoP proof validation and access token validation (the
 * verifier library's validators, which the broker shares for proofs) next to one bare Bouncy Castle ES256
 * verification, and the signing-key lookup by {@code kid} (the JWKS cache).
 *
 * <p>The differences are what the code adds around the crypto. Run by {@code bench/run} (the {@code micro} phase)
 * in a child JVM whose {@code SOFTHSM2_CONF} names a throwaway token: {@link #main} takes the SunPKCS11
 * configuration and prints {@code RESULT} lines; JMH forks one JVM per benchmark, which inherits both.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class HotPathBenchmarks {
  static final String CONFIG_PROPERTY = "bench.pkcs11.config";
  private static final String ISSUER = "https://broker.bench.test";
  private static final String AUDIENCE = "https://telemetry.bench.test";
  private static final String HTU = AUDIENCE + "/telemetry.v1.Telemetry/Ingest";

  /** A broker signing key generated in the throwaway token, used through the broker's classes. */
  @State(Scope.Benchmark)
  public static class Hsm {
    SigningKey key;
    AccessTokenIssuer issuer;
    final TokenBinding binding = new TokenBinding.Jkt("0kBQsZAGJofIkJ6K3i3J6tdqT_PMevc0_dnW9rqxnEc");
    final byte[] signingInput = CryptoCeiling.SIGNING_INPUT;

    @Setup
    public void open() {
      String config = System.getProperty(CONFIG_PROPERTY);
      if (config == null) {
        throw new IllegalStateException("-D" + CONFIG_PROPERTY + " must name a SunPKCS11 configuration");
      }
      Pkcs11Token token = Pkcs11Token.open(Path.of(config),
          HsmPin.ofChars(ThrowawayToken.PIN.toCharArray(), "bench"));
      key = new Pkcs11SigningKeyStore(token, Clock.systemUTC()).generate(SigningAlgorithm.ES256);
      SigningKey signingKey = key;
      issuer = new AccessTokenIssuer(URI.create(ISSUER), new AccessTokenSigner(() -> signingKey));
    }
  }

  /** A verifier's view: the broker's public key, one device's access token and a DPoP proof for it. */
  @State(Scope.Benchmark)
  public static class Verifier {
    String kid;
    String accessToken;
    String proof;
    String ath;
    DpopProofValidator proofs;
    AccessTokenValidator tokens;
    SigningKeyCache keys;
    ECPublicKey devicePublic;
    byte[][] proofParts;

    @Setup
    public void prepare() throws Exception {
      ECKey issuerKey = new ECKeyGenerator(Curve.P_256).keyID("bench-1").algorithm(JWSAlgorithm.ES256)
          .keyUse(KeyUse.SIGNATURE).provider(DpopKey.BOUNCY_CASTLE).generate();
      kid = issuerKey.getKeyID();
      DpopKey device = new DpopKey();
      Instant now = Instant.ofEpochSecond(System.currentTimeMillis() / 1000);
      JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject("device-1").audience(AUDIENCE)
          .claim("client_id", "bench-device").claim("scope", "telemetry:write").issueTime(Date.from(now))
          .expirationTime(Date.from(now.plusSeconds(600))).jwtID("jti-1").claim("cnf", Map.of("jkt", device.jkt()))
          .claim("sid", "family-1").build();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("at+jwt"))
          .keyID(kid).build(), claims);
      ECDSASigner signer = new ECDSASigner(issuerKey);
      signer.getJCAContext().setProvider(DpopKey.BOUNCY_CASTLE);
      jwt.sign(signer);
      accessToken = jwt.serialize();
      ath = TokenVerifier.ath(accessToken);
      proof = device.proof(HTU, ath);
      // The proof's iat is now; a fixed clock keeps it inside the window for as long as the benchmark runs. The
      // validators never check replay themselves (the caller records the jti), so one proof serves every call.
      Clock clock = Clock.fixed(now, ZoneOffset.UTC);
      keys = new SigningKeyCache(VerifierThroughput.publishedKey(issuerKey), clock, Duration.ofSeconds(10),
          Duration.ofMinutes(10), Set.of(JWSAlgorithm.ES256));
      tokens = new AccessTokenValidator(ISSUER, AUDIENCE, Duration.ofSeconds(60), Set.of(JWSAlgorithm.ES256), keys,
          clock);
      proofs = new DpopProofValidator(Duration.ofSeconds(60), null, clock);
      devicePublic = device.publicKey();
      proofParts = VerifierThroughput.signedParts(proof);
    }
  }

  /** The broker's minting: claims, JSON, base64url and the HSM signature through SunPKCS11. */
  @Benchmark
  public String mintAccessToken(Hsm hsm) {
    return hsm.issuer.issue("3f2a9b10-44c7-4a1e-9d37-7fc2b418e2a1", "demo-device", Set.of("telemetry:write"),
        Set.of(AUDIENCE), hsm.binding, "7a0d1c8e-31b6-4d8d-8b35-a986b2a3ffb2", Duration.ofMinutes(5),
        Instant.now()).jwt();
  }

  /** The HSM signature alone, on a signing input of the same size. */
  @Benchmark
  public byte[] hsmSign(Hsm hsm) {
    return hsm.key.sign(hsm.signingInput);
  }

  /** RFC 9449 §4.3 checks of one proof (parse, key, signature, claims), as the broker and the verifier do. */
  @Benchmark
  public DpopProof validateDpopProof(Verifier v) {
    return v.proofs.validate(v.proof, "POST", HTU, v.ath);
  }

  /** RFC 9068 §4 checks of one access token, including the key lookup by kid. */
  @Benchmark
  public AccessToken validateAccessToken(Verifier v) {
    return v.tokens.validate(v.accessToken);
  }

  /** The key lookup alone: the JWKS cache's verifier for a known kid. */
  @Benchmark
  public JWSVerifier lookUpSigningKey(Verifier v) {
    return v.keys.verifierFor(v.kid, JWSAlgorithm.ES256);
  }

  /** The floor of either validation: one bare ES256 verification with Bouncy Castle's provider. */
  @Benchmark
  public boolean verifyEs256Raw(Verifier v) throws Exception {
    Signature s = Signature.getInstance("SHA256withPLAIN-ECDSA", DpopKey.BOUNCY_CASTLE);
    s.initVerify(v.devicePublic);
    s.update(v.proofParts[0]);
    return s.verify(v.proofParts[1]);
  }

  /** Parent side: a throwaway token in {@code dir}, the JMH child JVM, and its results. */
  static Map<String, Object> measure(Path dir, PrintStream log) throws Exception {
    ThrowawayToken token = ThrowawayToken.create(dir, "bench-micro", true);
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-D" + CONFIG_PROPERTY + "=" + token.pkcs11Config(), "-cp", System.getProperty("java.class.path"),
        HotPathBenchmarks.class.getName());
    ProcessBuilder child = new ProcessBuilder(cmd);
    child.environment().put("SOFTHSM2_CONF", token.softhsmConf().toString());
    // Six benchmarks of one fork each: about 6.5 s apiece with the fork's start.
    return CryptoCeiling.runChild(child, 240, "micro", log);
  }

  /** Child side: runs every benchmark of this class and prints {@code RESULT micro_<name>_us=...} lines. */
  public static void main(String[] args) throws Exception {
    var options = new OptionsBuilder().include(HotPathBenchmarks.class.getName() + "\\.").build();
    for (RunResult result : new Runner(options).run()) {
      String method = result.getParams().getBenchmark();
      String name = method.substring(method.lastIndexOf('.') + 1);
      System.out.printf(Locale.ROOT, "RESULT micro_%s_us=%.3f%n", name, result.getPrimaryResult().getScore());
      System.out.printf(Locale.ROOT, "RESULT micro_%s_error_us=%.3f%n", name,
          result.getPrimaryResult().getScoreError());
    }
  }
}
