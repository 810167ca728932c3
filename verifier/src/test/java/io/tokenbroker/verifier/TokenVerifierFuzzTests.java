package io.tokenbroker.verifier;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import io.tokenbroker.verifier.jwks.JwksSource;
import io.tokenbroker.verifier.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The whole check a resource server makes ({@link TokenVerifier#verify}), fed requests built from arbitrary
 * bytes. Whatever arrives, the verifier either refuses with a {@link VerificationException} that does not echo
 * the token or the proof (never another exception: that would be a 500 or a crashed call), or accepts a request
 * that {@link IndependentVerdict} also accepts, checked with the JDK's own providers: a token signed by a key
 * the verifier trusts, with valid claims, presented with its binding. The principal it returns is the one the
 * claims name.
 *
 * <p>An input is lines. {@code raw}: the Authorization values, DPoP values (tab-separated), method, URI and
 * peer certificate ({@code device}, {@code other} or none) as they are. {@code signed}: the token's signer
 * ({@code es256}/{@code ps256}: keys the verifier trusts, {@code attacker}: an untrusted key under a trusted
 * kid, {@code none}, or text taken as the signature), header JSON and claims JSON, the scheme, then the proof's
 * signer ({@code device}, {@code attacker}, {@code none}, {@code absent}, {@code twice}), header and claims JSON,
 * the method, the URI and the peer certificate. The harness signs, so the fuzzer gets past the signatures; in
 * the JSON, {@code @JKT@}, {@code @X5T@}, {@code @JWK@} and {@code @ATH@} stand for the device key's
 * thumbprint, the device certificate's, the device's public JWK and the token's hash, which change with the
 * keys made for each run. Runs over the committed inputs in every build; {@code fuzz/run} fuzzes it.
 */
class TokenVerifierFuzzTests {
  /** The seeds' times are around this instant (epoch 1780315200): a fixed clock keeps them valid. */
  static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
  static final String ISSUER = "https://broker.test";
  static final String AUDIENCE = "https://api.example.test";

  private static final ECKey ES256_KEY = ecKey("issuer-es256", JWSAlgorithm.ES256);
  private static final RSAKey PS256_KEY = rsaKey("issuer-ps256");
  /** A key the verifier does not trust, signing under the trusted key's kid. */
  private static final ECKey ATTACKER_KEY = ecKey("issuer-es256", JWSAlgorithm.ES256);
  private static final ECKey DEVICE_KEY = ecKey(null, null);
  private static final X509Certificate DEVICE_CERT = TestCertificates.selfSigned("device-1", BigInteger.TWO)
      .certificate();
  private static final X509Certificate OTHER_CERT = TestCertificates.selfSigned("device-2", BigInteger.TEN)
      .certificate();
  static final JWKSet TRUSTED = new JWKSet(List.of(ES256_KEY.toPublicJWK(), PS256_KEY.toPublicJWK()));

  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @FuzzTest
  // libFuzzer dictionary syntax: \xNN, \\ and \" are the only escapes.
  @DictionaryEntries({"null", "[]", "{}", "true", "1e30", "-1", "1780315200", "\\\"aud\\\"", "\\\"cnf\\\"",
      "\\\"jkt\\\"", "\\\"x5t#S256\\\"", "\\\"nbf\\\"", "\\\"crit\\\"", "\\\"ath\\\"", "\\\"htu\\\"",
      "\\\"htm\\\"", "\\\"scope\\\"", "\\\"sid\\\"", "\\\\u0000", "at+jwt", "application/at+jwt", "dpop+jwt",
      "ES384", "EdDSA", "Bearer", "DPoP", "@JKT@", "@X5T@", "@JWK@", "@ATH@", "es256", "ps256", "attacker",
      "device", "twice", "absent", "other", "signed", "raw", "\\x09", "\\x0A", "%2F", "/../"})
  void verifyAcceptsOnlyWhatAnIndependentCheckAccepts(byte[] input) throws Exception {
    ResourceRequest request = request(new String(input, StandardCharsets.UTF_8).split("\n", -1));
    VerifiedPrincipal accepted;
    try {
      accepted = verify(request);
    } catch (VerificationException refused) {
      for (String secret : secrets(request)) {
        assertThat(refused.getMessage()).as("a refusal never echoes the token or the proof").doesNotContain(secret);
      }
      assertThat(refused.error()).isNotNull();
      return;
    }
    Optional<VerifiedPrincipal> expected = IndependentVerdict.of(request, TRUSTED, ISSUER, AUDIENCE, NOW);
    assertThat(expected).as("the independent check accepts what the verifier accepted").isPresent();
    assertThat(accepted).as("the principal is the one the claims name").isEqualTo(expected.get());
  }

  @Test
  void theValidSeedsAreAcceptedSoTheFuzzerStartsPastEveryCheck() throws Exception {
    for (String seed : List.of("seed-dpop-es256", "seed-dpop-ps256", "seed-mtls")) {
      ResourceRequest request = request(seed(seed));
      assertThat(verify(request).deviceId()).as(seed).isEqualTo("device-1");
      assertThat(IndependentVerdict.of(request, TRUSTED, ISSUER, AUDIENCE, NOW)).as(seed).isPresent();
    }
  }

  /** A verifier per input: its replay cache must not make the outcome depend on earlier inputs. */
  private static VerifiedPrincipal verify(ResourceRequest request) {
    try (TokenVerifier verifier = TokenVerifier.builder().issuer(ISSUER).audience(AUDIENCE)
        .algorithms("ES256", "PS256").jwksSource(source()).unsafeWithoutRevocationStream().clock(CLOCK).build()) {
      return verifier.verify(request);
    }
  }

  private static String[] seed(String name) throws IOException {
    try (InputStream in = TokenVerifierFuzzTests.class.getResourceAsStream(
        "TokenVerifierFuzzTestsInputs/verifyAcceptsOnlyWhatAnIndependentCheckAccepts/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1);
    }
  }

  private static ResourceRequest request(String[] lines) throws JOSEException {
    if (!line(lines, 0).equals("signed")) {
      return new ResourceRequest(line(lines, 3), line(lines, 4), values(line(lines, 1)), values(line(lines, 2)),
          certificate(line(lines, 5)));
    }
    String token = sign(line(lines, 1), placeholders(line(lines, 2), null),
        placeholders(line(lines, 3), null));
    List<String> authorization = List.of(line(lines, 4) + " " + token);
    String proofSigner = line(lines, 5);
    List<String> dpop = new ArrayList<>();
    if (!proofSigner.equals("absent")) {
      String proof = sign(proofSigner.equals("twice") ? "device" : proofSigner,
          placeholders(line(lines, 6), token), placeholders(line(lines, 7), token));
      dpop.add(proof);
      if (proofSigner.equals("twice")) {
        dpop.add(proof);
      }
    }
    return new ResourceRequest(line(lines, 8), line(lines, 9), authorization, dpop, certificate(line(lines, 10)));
  }

  /** A compact JWS of exactly these header and claims texts, signed as {@code signer} says. */
  private static String sign(String signer, String header, String claims) throws JOSEException {
    String signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims);
    byte[] bytes = signingInput.getBytes(StandardCharsets.US_ASCII);
    Base64URL signature = switch (signer) {
      case "es256" -> new ECDSASigner(ES256_KEY).sign(new JWSHeader(JWSAlgorithm.ES256), bytes);
      case "ps256" -> new RSASSASigner(PS256_KEY).sign(new JWSHeader(JWSAlgorithm.PS256), bytes);
      case "device" -> new ECDSASigner(DEVICE_KEY).sign(new JWSHeader(JWSAlgorithm.ES256), bytes);
      case "attacker" -> new ECDSASigner(ATTACKER_KEY).sign(new JWSHeader(JWSAlgorithm.ES256), bytes);
      case "none" -> new Base64URL("");
      default -> Base64URL.encode(signer);
    };
    return signingInput + "." + signature;
  }

  private static String placeholders(String json, String token) throws JOSEException {
    String out = json.replace("@JKT@", DEVICE_KEY.toPublicJWK().computeThumbprint().toString())
        .replace("@X5T@", IndependentVerdict.x5t(DEVICE_CERT))
        .replace("@JWK@", DEVICE_KEY.toPublicJWK().toJSONString());
    return token == null ? out : out.replace("@ATH@", IndependentVerdict.sha256(token));
  }

  private static Optional<X509Certificate> certificate(String which) {
    return switch (which) {
      case "device" -> Optional.of(DEVICE_CERT);
      case "other" -> Optional.of(OTHER_CERT);
      default -> Optional.empty();
    };
  }

  private static List<String> values(String line) {
    return line.isEmpty() ? List.of() : Arrays.asList(line.split("\t", -1));
  }

  private static String line(String[] lines, int i) {
    return i < lines.length ? lines[i] : "";
  }

  /** What a refusal must not repeat: the presented token and proofs (long enough to be recognisable). */
  private static List<String> secrets(ResourceRequest request) {
    List<String> secrets = new ArrayList<>();
    for (String value : request.authorization()) {
      int space = value.indexOf(' ');
      secrets.add(space < 0 ? value : value.substring(space + 1).strip());
    }
    secrets.addAll(request.dpop());
    secrets.removeIf(s -> s.length() < 24);
    return secrets;
  }

  private static JwksSource source() {
    return new JwksSource() {
      @Override
      public JWKSet fetch() {
        return TRUSTED;
      }

      @Override
      public String describe() {
        return "the fuzz test's keys";
      }
    };
  }

  private static ECKey ecKey(String kid, JWSAlgorithm alg) {
    try {
      return new ECKeyGenerator(Curve.P_256).keyID(kid).algorithm(alg).keyUse(kid == null ? null : KeyUse.SIGNATURE)
          .generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static RSAKey rsaKey(String kid) {
    try {
      return new RSAKeyGenerator(2048).keyID(kid).algorithm(JWSAlgorithm.PS256).keyUse(KeyUse.SIGNATURE).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }
}
