package io.tokenbroker.broker.dpop;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 9449 §4.3: every way a proof can be wrong is refused with {@code invalid_dpop_proof}, leaves no grant state
 * behind (the device authorization is not even counted as polled), and is audited. The last test shows the same
 * setup with a good proof issues tokens, so the refusals are the proofs' fault.
 */
@SoftHsmTest
class DpopProofRejectionTests {
  private static final String HTU = InProcessBroker.tokenHtu();

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private StartDeviceAuthorizationResponse started;

  DpopProofRejectionTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  /** A named way of building the {@code dpop} metadata values of the call from a device and the time. */
  interface BadProof extends Function<Case, List<String>> {}

  /** What a bad-proof builder gets: the device and the broker's current time. */
  record Case(TestDevice device, Instant now) {
    String with(java.util.function.UnaryOperator<JWSHeader.Builder> h,
        java.util.function.UnaryOperator<JWTClaimsSet.Builder> c) {
      return device.proof(HTU, now, h, c);
    }
  }

  @BeforeEach
  void startAndApprove() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private void redeem(List<String> proofs) {
    broker.token(proofs.toArray(String[]::new)).token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build());
  }

  static Stream<Named<BadProof>> badProofs() {
    return Stream.of(
        named("no proof at all", c -> List.of()),
        named("two dpop metadata values", c -> List.of(c.device().proof(HTU), c.device().proof(HTU))),
        named("proof larger than 8 KiB", c -> List.of(c.with(h -> h, b -> b.claim("pad", "x".repeat(9000))))),
        named("not a JWT", c -> List.of("this-is-not-a-jwt")),
        named("three dots of garbage", c -> List.of("a.b.c")),
        named("unsecured JWT, alg none", c -> List.of(new PlainJWT(new PlainHeader.Builder()
            .type(new JOSEObjectType("dpop+jwt")).build(), c.device().claims(HTU, c.now()).build()).serialize())),
        named("MAC algorithm HS256", c -> List.of(hs256(c))),
        named("typ missing", c -> List.of(c.with(h -> new JWSHeader.Builder(JWSAlgorithm.ES256)
            .jwk(c.device().key().toPublicJWK()), b -> b))),
        named("typ is JWT", c -> List.of(c.with(h -> h.type(JOSEObjectType.JWT), b -> b))),
        named("jwk header missing", c -> List.of(c.with(h -> h.jwk(null), b -> b))),
        named("jwk holds the private key", c -> List.of(privateJwk(c))),
        named("signed by another key than its jwk", c -> List.of(TestDevice.sign(c.device().header().build(),
            c.device().claims(HTU, c.now()).build(), new TestDevice().key()))),
        named("payload changed after signing", c -> List.of(tamper(c.device().proof(HTU)))),
        named("ES256 signature in DER instead of JOSE form", c -> List.of(derSignature(c))),
        named("alg ES256 with a P-384 jwk", c -> List.of(p384KeyClaimingEs256(c))),
        named("alg RS256 is not accepted", c -> List.of(rs256(c))),
        named("PS256 with a 1024-bit RSA key", c -> List.of(weakRsa(c))),
        named("unknown critical header", c -> List.of(c.with(h -> h.criticalParams(Set.of("urn:x"))
            .customParam("urn:x", true), b -> b))),
        named("htm missing", c -> List.of(c.with(h -> h, b -> b.claim("htm", null)))),
        named("htm is GET", c -> List.of(c.with(h -> h, b -> b.claim("htm", "GET")))),
        named("htm is a number", c -> List.of(c.with(h -> h, b -> b.claim("htm", 1)))),
        named("htu missing", c -> List.of(c.with(h -> h, b -> b.claim("htu", null)))),
        named("htu names another RPC", c -> List.of(c.device().proof(InProcessBroker.htu(
            "tokenbroker.v1.TokenService/RevokeToken")))),
        named("htu names another host", c -> List.of(c.device().proof(
            HTU.replace("broker.test", "evil.test")))),
        named("htu uses http", c -> List.of(c.device().proof(HTU.replace("https:", "http:")))),
        named("htu is not a URI", c -> List.of(c.with(h -> h, b -> b.claim("htu", "::not a uri::")))),
        named("iat missing", c -> List.of(c.with(h -> h, b -> b.issueTime(null)))),
        named("iat 120 s in the past", c -> List.of(c.device().proof(HTU, c.now().minusSeconds(120), h -> h,
            b -> b))),
        named("iat 120 s in the future", c -> List.of(c.device().proof(HTU, c.now().plusSeconds(120), h -> h,
            b -> b))),
        named("jti missing", c -> List.of(c.with(h -> h, b -> b.jwtID(null)))),
        named("jti longer than 256 characters", c -> List.of(c.with(h -> h, b -> b.jwtID("j".repeat(300))))),
        named("jti is a number", c -> List.of(c.with(h -> h, b -> b.claim("jti", 42)))),
        named("alg EdDSA with a P-256 jwk", c -> List.of(eddsaHeaderWithEcKey(c))));
  }

  private static Named<BadProof> named(String name, BadProof proof) {
    return Named.of(name, proof);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badProofs")
  void tokenWhenProofIsBadThenInvalidDpopProofAndNoStateChange(BadProof bad) {
    Map<String, List<String>> before = broker.grantState();
    int audited = broker.auditCount("dpop_proof_rejected");
    List<String> proofs = bad.apply(new Case(new TestDevice(), clock.instant()));

    assertOAuthError(() -> redeem(proofs), Status.Code.UNAUTHENTICATED, "INVALID_DPOP_PROOF", "invalid_dpop_proof");

    assertThat(broker.grantState()).isEqualTo(before);
    assertThat(broker.auditCount("dpop_proof_rejected")).isEqualTo(audited + 1);
  }

  @Test
  void tokenWhenProofReplayedThenInvalidDpopProofAndNoStateChange() {
    TestDevice device = new TestDevice();
    StartDeviceAuthorizationResponse pending = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    String proof = device.proof(HTU, clock.instant(), h -> h, b -> b);
    TokenRequest poll = TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(pending.getDeviceCode())).build();
    assertOAuthError(() -> broker.token(proof).token(poll), Status.Code.FAILED_PRECONDITION, "AUTHORIZATION_PENDING",
        "authorization_pending");
    clock.advance(Duration.ofSeconds(10));
    Map<String, List<String>> before = broker.grantState();

    assertOAuthError(() -> broker.token(proof).token(poll), Status.Code.UNAUTHENTICATED, "INVALID_DPOP_PROOF",
        "invalid_dpop_proof");

    assertThat(broker.grantState()).isEqualTo(before);
  }

  @Test
  void tokenWhenProofIsGoodThenTheSameSetupIssuesTokens() {
    TestDevice device = new TestDevice();
    assertThat(broker.token(device.proof(HTU, clock.instant(), h -> h, b -> b)).token(TokenRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build())
        .getAccessToken()).isNotBlank();
  }

  @Test
  void tokenWhenHtuDiffersOnlyByNormalisationThenAccepted() {
    TestDevice device = new TestDevice();
    String equivalent = HTU.replace("https://broker.test", "HTTPS://Broker.Test").replace("/Token", "/./Token")
        + "?ignored=query#and-fragment";
    assertThat(broker.token(device.proof(equivalent, clock.instant(), h -> h, b -> b)).token(TokenRequest
        .newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build())
        .getAccessToken()).isNotBlank();
  }

  private static String eddsaHeaderWithEcKey(Case c) {
    try {
      JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.EdDSA).type(new JOSEObjectType("dpop+jwt"))
          .jwk(c.device().key().toPublicJWK()).build();
      return signRaw(header, c.device().claims(HTU, c.now()).build(), "SHA256withECDSAinP1363Format",
          c.device().key().toPrivateKey(), null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** An Ed25519 proof made with the JDK's own EdDSA, as a device with such a key would. */
  static String ed25519Proof(String htu, Instant now) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    var pair = g.generateKeyPair();
    byte[] spki = pair.getPublic().getEncoded();
    byte[] x = java.util.Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    com.nimbusds.jose.jwk.OctetKeyPair jwk = new com.nimbusds.jose.jwk.OctetKeyPair.Builder(Curve.Ed25519,
        Base64URL.encode(x)).build();
    JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.EdDSA).type(new JOSEObjectType("dpop+jwt")).jwk(jwk)
        .build();
    return signRaw(header, new TestDevice().claims(htu, now).build(), "Ed25519", pair.getPrivate(), null);
  }

  @Test
  void tokenWhenProofIsEd25519ThenAccepted() throws Exception {
    assertThat(broker.token(ed25519Proof(HTU, clock.instant())).token(TokenRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build())
        .getAccessToken()).isNotBlank();
  }

  private static String hs256(Case c) {
    try {
      OctetSequenceKey secret = new OctetSequenceKeyGenerator(256).generate();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("dpop+jwt"))
          .build(), c.device().claims(HTU, c.now()).build());
      jwt.sign(new MACSigner(secret));
      return jwt.serialize();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String tamper(String proof) {
    String[] parts = proof.split("\\.");
    String payload = new String(Base64URL.from(parts[1]).decode(), StandardCharsets.UTF_8)
        .replace("\"POST\"", "\"PUT\"");
    return parts[0] + "." + Base64URL.encode(payload.replace("\"PUT\"", "\"POST\" ")) + "." + parts[2];
  }

  private static String derSignature(Case c) {
    try {
      SignedJWT jwt = SignedJWT.parse(c.device().proof(HTU));
      byte[] der = com.nimbusds.jose.crypto.impl.ECDSA.transcodeSignatureToDER(jwt.getSignature().decode());
      String[] parts = jwt.serialize().split("\\.");
      return parts[0] + "." + parts[1] + "." + Base64URL.encode(der);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String p384KeyClaimingEs256(Case c) {
    try {
      ECKey p384 = new ECKeyGenerator(Curve.P_384).generate();
      JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("dpop+jwt"))
          .jwk(p384.toPublicJWK()).build();
      return signRaw(header, c.device().claims(HTU, c.now()).build(), "SHA256withECDSAinP1363Format",
          p384.toPrivateKey(), null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rs256(Case c) {
    try {
      RSAKey rsa = new RSAKeyGenerator(2048).generate();
      JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).type(new JOSEObjectType("dpop+jwt"))
          .jwk(rsa.toPublicJWK()).build();
      return signRaw(header, c.device().claims(HTU, c.now()).build(), "SHA256withRSA", rsa.toPrivateKey(), null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String weakRsa(Case c) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(1024);
      var pair = g.generateKeyPair();
      JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.PS256).type(new JOSEObjectType("dpop+jwt"))
          .jwk(new RSAKey.Builder((RSAPublicKey) pair.getPublic()).build()).build();
      return signRaw(header, c.device().claims(HTU, c.now()).build(), "RSASSA-PSS", pair.getPrivate(),
          new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String privateJwk(Case c) {
    try {
      String header = "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":" + c.device().key().toJSONString() + "}";
      return signRaw(Base64URL.encode(header).toString(), c.device().claims(HTU, c.now()).build(),
          "SHA256withECDSAinP1363Format", c.device().key().toPrivateKey(), null);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs with plain JCA, for keys Nimbus rightly refuses to sign with. */
  private static String signRaw(JWSHeader header, JWTClaimsSet claims, String algorithm,
      java.security.PrivateKey key, PSSParameterSpec pss) throws Exception {
    return signRaw(header.toBase64URL().toString(), claims, algorithm, key, pss);
  }

  private static String signRaw(String encodedHeader, JWTClaimsSet claims, String algorithm,
      java.security.PrivateKey key, PSSParameterSpec pss) throws Exception {
    String input = encodedHeader + "." + Base64URL.encode(claims.toString());
    Signature s = Signature.getInstance(algorithm);
    if (pss != null) {
      s.setParameter(pss);
    }
    s.initSign(key);
    s.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + Base64URL.encode(s.sign());
  }
}
