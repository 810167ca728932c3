package io.tokenbroker.verifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.verifier.mtls.CertificateThumbprint;
import io.tokenbroker.verifier.testing.DpopTestKey;
import io.tokenbroker.verifier.testing.FakeBroker;
import io.tokenbroker.verifier.testing.MutableClock;
import io.tokenbroker.verifier.testing.TestCertificates;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The whole verification of a request: token, binding (DPoP and mTLS), revocation, replay. */
class TokenVerifierTest {
  private static final String URI = "https://api.example.test/telemetry.v1.TelemetryService/Ingest";

  // On a whole second, so that "revoked_at rounded up to the second" is predictable.
  private final MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.SECONDS));
  private FakeBroker broker;
  private TokenVerifier verifier;
  private final DpopTestKey device = new DpopTestKey();

  @BeforeEach
  void start() throws Exception {
    broker = new FakeBroker();
    verifier = FakeBroker.ready(builder().build());
  }

  private TokenVerifier.Builder builder() {
    return broker.verifierBuilder().clock(clock).reconnectBackoff(Duration.ofMillis(20), Duration.ofMillis(100));
  }

  @AfterEach
  void stop() throws Exception {
    verifier.close();
    broker.close();
  }

  private String token() {
    return broker.issuer().dpopToken("device-1", device.jkt(), clock.instant());
  }

  private static ResourceRequest dpop(String token, String... proofs) {
    return new ResourceRequest("POST", URI, List.of("DPoP " + token), List.of(proofs), Optional.empty());
  }

  private ResourceRequest valid(String token) {
    return dpop(token, device.proof(URI, token, clock.instant()));
  }

  private static void assertRefused(ThrowingCallable call, VerificationError error, String named) {
    assertThatThrownBy(call).isInstanceOf(VerificationException.class).hasMessageContaining(named)
        .satisfies(e -> assertThat(((VerificationException) e).error()).isEqualTo(error));
  }

  @Test
  void theAuthorizationValueMustBeToken68ExactlyAsTheGrammarSays() {
    // RFC 7235 §2.1, written as the regular expression the loop replaced: both must agree on every string.
    java.util.regex.Pattern grammar = java.util.regex.Pattern.compile("[A-Za-z0-9._~+/-]+=*");
    String alphabet = "Az09-._~+/=% \u00e9\u0000:,";
    java.util.Random random = new java.util.Random(20261203);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder sb = new StringBuilder();
      for (int len = random.nextInt(8); len > 0; len--) {
        sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String candidate = sb.toString();
      assertThat(TokenVerifier.isToken68(candidate)).as("'%s'", candidate)
          .isEqualTo(grammar.matcher(candidate).matches());
    }
    assertThat(TokenVerifier.isToken68("eyJ0.eyJz.c2ln==")).isTrue();
    assertThat(TokenVerifier.isToken68("=abc")).isFalse();
    assertThat(TokenVerifier.isToken68("abc=d")).isFalse();
    assertThat(TokenVerifier.isToken68("")).isFalse();
  }

  @Test
  void verifyWhenTokenAndProofAreGoodThenThePrincipalHasTheTokensClaims() {
    String token = token();
    VerifiedPrincipal p = verifier.verify(valid(token));
    assertThat(p.deviceId()).isEqualTo("device-1");
    assertThat(p.clientId()).isEqualTo("demo-device");
    assertThat(p.scopes()).contains("telemetry:write");
    assertThat(p.binding()).isEqualTo(new Binding(Binding.Method.DPOP, device.jkt()));
    assertThat(p.hasScopes(java.util.Set.of("telemetry:write"))).isTrue();
    assertThat(p.hasScopes(java.util.Set.of("admin"))).isFalse();
  }

  @Test
  void verifyWhenADpopBoundTokenComesWithTheBearerSchemeThenItIsRefused() {
    String token = token();
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("Bearer " + token),
        List.of(device.proof(URI, token, clock.instant())), Optional.empty())), VerificationError.INVALID_TOKEN,
        "DPoP scheme");
  }

  @Test
  void verifyWhenTheProofIsMissingWrongOrReplayedThenItIsRefused() {
    String token = token();
    Instant now = clock.instant();
    assertRefused(() -> verifier.verify(dpop(token)), VerificationError.INVALID_DPOP_PROOF, "required");
    assertRefused(() -> verifier.verify(dpop(token, device.proof(URI, now, h -> h, c -> c))),
        VerificationError.INVALID_DPOP_PROOF, "ath");
    assertRefused(() -> verifier.verify(dpop(token, device.proof(URI, "another-token", now))),
        VerificationError.INVALID_DPOP_PROOF, "ath");
    assertRefused(() -> verifier.verify(dpop(token, device.proof(URI + "x", token, now))),
        VerificationError.INVALID_DPOP_PROOF, "htu");
    assertRefused(() -> verifier.verify(dpop(token, device.proof(URI, now, h -> h, c -> c.claim("htm", "GET")
        .claim("ath", TokenVerifier.ath(token))))), VerificationError.INVALID_DPOP_PROOF, "htm");
    assertRefused(() -> verifier.verify(dpop(token, new DpopTestKey().proof(URI, token, now))),
        VerificationError.INVALID_DPOP_PROOF, "another key");
    assertRefused(() -> verifier.verify(dpop(token, device.proof(URI, token, now), device.proof(URI, token, now))),
        VerificationError.INVALID_DPOP_PROOF, "exactly one");

    String proof = device.proof(URI, token, now);
    assertThat(verifier.verify(dpop(token, proof)).deviceId()).isEqualTo("device-1");
    assertRefused(() -> verifier.verify(dpop(token, proof)), VerificationError.INVALID_DPOP_PROOF, "already used");
  }

  @Test
  void verifyWhenAProofIsRefusedThenItsJtiIsNotConsumed() {
    String token = token();
    String proof = device.proof(URI, token, clock.instant());
    // The same proof first arrives with a Bearer scheme (refused), then correctly.
    assertThatThrownBy(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("Bearer " + token),
        List.of(proof), Optional.empty()))).isInstanceOf(VerificationException.class);
    assertThat(verifier.verify(dpop(token, proof)).deviceId()).isEqualTo("device-1");
  }

  @Test
  void verifyWhenTheAuthorizationHeaderIsMalformedThenItIsRefused() {
    String token = token();
    String proof = device.proof(URI, token, clock.instant());
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of(), List.of(proof),
        Optional.empty())), VerificationError.INVALID_TOKEN, "no access token");
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("DPoP " + token, "DPoP " + token),
        List.of(proof), Optional.empty())), VerificationError.INVALID_REQUEST, "exactly one");
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("Basic " + token), List.of(proof),
        Optional.empty())), VerificationError.INVALID_REQUEST, "scheme");
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("DPoP a\"b"), List.of(proof),
        Optional.empty())), VerificationError.INVALID_TOKEN, "malformed");
  }

  @Test
  void verifyWhenACertificateBoundTokenComesOverTheRightConnectionThenItIsAccepted() {
    X509Certificate cert = TestCertificates.selfSigned("device-2", BigInteger.valueOf(0x1234)).certificate();
    X509Certificate other = TestCertificates.selfSigned("device-2", BigInteger.valueOf(0x1234)).certificate();
    String token = broker.issuer().mtlsToken("device-2", CertificateThumbprint.x5tS256(cert), clock.instant());

    VerifiedPrincipal p = verifier.verify(new ResourceRequest("POST", URI, List.of("Bearer " + token), List.of(),
        Optional.of(cert)));
    assertThat(p.binding()).isEqualTo(new Binding(Binding.Method.MTLS, CertificateThumbprint.x5tS256(cert)));

    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("Bearer " + token), List.of(),
        Optional.of(other))), VerificationError.INVALID_TOKEN, "not the one");
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("Bearer " + token), List.of(),
        Optional.empty())), VerificationError.INVALID_TOKEN, "no client certificate");
    assertRefused(() -> verifier.verify(new ResourceRequest("POST", URI, List.of("DPoP " + token), List.of(),
        Optional.of(cert))), VerificationError.INVALID_TOKEN, "Bearer scheme");
  }

  private void revokeAndAwait(Consumer<io.tokenbroker.proto.v1.RevocationEvent.Builder> subject, Instant at)
      throws InterruptedException {
    int before = verifier.revocationStatus().orElseThrow().revokedSubjects();
    broker.revocations().revoke(subject, at);
    for (int i = 0; i < 200 && verifier.revocationStatus().orElseThrow().revokedSubjects() == before; i++) {
      Thread.sleep(10);
    }
  }

  @Test
  void verifyWhenTheDeviceIsRevokedThenItsOlderTokensAreRefusedAndLaterOnesAccepted() throws Exception {
    String old = token();
    revokeAndAwait(b -> b.setDeviceId("device-1"), clock.instant().plusMillis(300));
    assertRefused(() -> verifier.verify(valid(old)), VerificationError.INVALID_TOKEN, "device's tokens were revoked");
    // A token whose iat is after revoked_at rounded up to the second (a resumed device) is not affected.
    clock.advance(Duration.ofSeconds(2));
    assertThat(verifier.verify(valid(token())).deviceId()).isEqualTo("device-1");
  }

  @Test
  void verifyRefusesTokensOfRevokedFamiliesClientsTokensKeysAndCertificates() throws Exception {
    String token = token();
    assertThat(verifier.verify(valid(token))).isNotNull();
    revokeAndAwait(b -> b.setRefreshFamilyId("family-device-1"), clock.instant());
    assertRefused(() -> verifier.verify(valid(token)), VerificationError.INVALID_TOKEN, "refresh family");

    DpopTestKey second = new DpopTestKey();
    String byJti = broker.issuer().dpopToken("device-3", second.jkt(), clock.instant());
    String jti = com.nimbusds.jwt.SignedJWT.parse(byJti).getJWTClaimsSet().getJWTID();
    revokeAndAwait(b -> b.setAccessTokenJti(jti), clock.instant());
    assertRefused(() -> verifier.verify(dpop(byJti, second.proof(URI, byJti, clock.instant()))),
        VerificationError.INVALID_TOKEN, "access token was revoked");

    DpopTestKey third = new DpopTestKey();
    String byKey = broker.issuer().dpopToken("device-4", third.jkt(), clock.instant());
    revokeAndAwait(b -> b.setJkt(third.jkt()), clock.instant());
    assertRefused(() -> verifier.verify(dpop(byKey, third.proof(URI, byKey, clock.instant()))),
        VerificationError.INVALID_TOKEN, "key or certificate");

    X509Certificate cert = TestCertificates.selfSigned("device-5", BigInteger.valueOf(0xabcdef)).certificate();
    String byCert = broker.issuer().mtlsToken("device-5", CertificateThumbprint.x5tS256(cert), clock.instant());
    ResourceRequest mtls = new ResourceRequest("POST", URI, List.of("Bearer " + byCert), List.of(), Optional.of(cert));
    assertThat(verifier.verify(mtls)).isNotNull();
    revokeAndAwait(b -> b.setCertificateSerial("abcdef"), clock.instant());
    assertRefused(() -> verifier.verify(mtls), VerificationError.INVALID_TOKEN, "client certificate was revoked");

    DpopTestKey fourth = new DpopTestKey();
    String byClient = broker.issuer().dpopToken("device-6", fourth.jkt(), clock.instant());
    revokeAndAwait(b -> b.setClientId("demo-device"), clock.instant());
    assertRefused(() -> verifier.verify(dpop(byClient, fourth.proof(URI, byClient, clock.instant()))),
        VerificationError.INVALID_TOKEN, "every device of the client");
  }

  @Test
  void verifyWhenTheRevocationListIsStalerThanAllowedThenItFailsClosedUnlessToldOtherwise() throws Exception {
    broker.revocations().disconnectAll(true);
    clock.advance(Duration.ofSeconds(31));
    assertRefused(() -> verifier.verify(valid(token())), VerificationError.TEMPORARILY_UNAVAILABLE, "not up to date");

    try (TokenVerifier failOpen = builder().unsafeAcceptTokensWhileRevocationsAreStale().build()) {
      assertThat(failOpen.verify(valid(token())).deviceId()).isEqualTo("device-1");
    }
  }

  @Test
  void verifyWhenNoncesAreRequiredThenAProofWithoutOneGetsUseDpopNonceAndOneWithAFreshNoncePasses() {
    try (TokenVerifier withNonces = builder().dpopNonces(Duration.ofMinutes(5)).build()) {
      String token = token();
      assertRefused(() -> withNonces.verify(valid(token)), VerificationError.USE_DPOP_NONCE, "nonce");
      String nonce = withNonces.freshDpopNonce().orElseThrow();
      String proof = device.proof(URI, clock.instant(), h -> h, c -> c.claim("ath", TokenVerifier.ath(token))
          .claim("nonce", nonce));
      assertThat(withNonces.verify(dpop(token, proof)).deviceId()).isEqualTo("device-1");
    }
  }

  @Test
  void buildWhenRequiredSettingsAreMissingThenItSaysWhich() {
    assertThatThrownBy(() -> TokenVerifier.builder().audience("a").brokerChannel(broker.channel()).build())
        .hasMessageContaining("issuer");
    assertThatThrownBy(() -> TokenVerifier.builder().issuer("i").brokerChannel(broker.channel()).build())
        .hasMessageContaining("audience");
    assertThatThrownBy(() -> TokenVerifier.builder().issuer("i").audience("a").build())
        .hasMessageContaining("key source");
    assertThatThrownBy(() -> TokenVerifier.builder().algorithms("HS256")).hasMessageContaining("unsupported");
    assertThatThrownBy(() -> TokenVerifier.builder().clockSkew(Duration.ofHours(1))).hasMessageContaining("skew");
  }
}
