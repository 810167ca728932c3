package io.tokenbroker.broker.grant;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 9700 §4.14 rotation with reuse detection and the grace rule for lost responses, both sides of every
 * condition, and the concurrency guarantee (one live token per family), on real SoftHSM2 and H2.
 */
@SoftHsmTest
class RefreshRotationTests {
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;

  RefreshRotationTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    Client draft = ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
        Set.of("https://api.example.test"), BindingPolicy.DPOP);
    broker.application().clientRegistry().create(new Client(draft.clientId(), draft.displayName(),
        draft.allowedScopes(), draft.allowedAudiences(), draft.bindingPolicy(), Duration.ofMinutes(5),
        Duration.ofDays(14), Duration.ofDays(90), Duration.ofSeconds(60), null), "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private TokenResponse enrol() {
    return broker.enrol(device);
  }

  private TokenResponse refresh(String token, TestDevice as) {
    return broker.refresh(token, as);
  }

  private void assertInvalidGrant(String token, TestDevice as) {
    assertOAuthError(() -> refresh(token, as), Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
  }

  private int liveTokens() {
    return broker.context().database().inTransaction(c -> {
      try (var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM refresh_tokens WHERE status = 'ACTIVE'")) {
        rs.next();
        return rs.getInt(1);
      }
    });
  }

  @Test
  void graceRetryWhenResponseLostThenFreshPairAndTheUnusedSuccessorIsRevoked() {
    TokenResponse r1 = enrol();
    TokenResponse r2 = refresh(r1.getRefreshToken(), device); // its response is "lost"
    clock.advance(Duration.ofSeconds(59));

    TokenResponse r3 = refresh(r1.getRefreshToken(), device);

    assertThat(r3.getRefreshToken()).isNotEqualTo(r2.getRefreshToken());
    assertThat(broker.auditCount("refresh_token_grace_retry")).isEqualTo(1);
    assertThat(liveTokens()).isEqualTo(1);
    // The successor nobody received is dead; using it now is reuse and burns the family.
    assertInvalidGrant(r2.getRefreshToken(), device);
    assertThat(broker.auditCount("refresh_token_reuse")).isEqualTo(1);
    assertInvalidGrant(r3.getRefreshToken(), device);
  }

  @Test
  void retryAfterTheGraceWindowIsReuseAndRevokesTheFamily() {
    TokenResponse r1 = enrol();
    TokenResponse r2 = refresh(r1.getRefreshToken(), device);
    clock.advance(Duration.ofSeconds(60));

    assertInvalidGrant(r1.getRefreshToken(), device);

    assertThat(broker.auditCount("refresh_token_reuse")).isEqualTo(1);
    assertInvalidGrant(r2.getRefreshToken(), device);
    assertThat(liveTokens()).isZero();
  }

  @Test
  void retryAfterTheSuccessorWasUsedIsReuseEvenWithinTheWindow() {
    TokenResponse r1 = enrol();
    TokenResponse r2 = refresh(r1.getRefreshToken(), device);
    TokenResponse r3 = refresh(r2.getRefreshToken(), device);
    clock.advance(Duration.ofSeconds(1));

    assertInvalidGrant(r1.getRefreshToken(), device);

    assertThat(broker.auditCount("refresh_token_reuse")).isEqualTo(1);
    assertInvalidGrant(r3.getRefreshToken(), device);
  }

  @Test
  void graceIsForTheImmediatePredecessorOnlyNeverAnOlderToken() {
    TokenResponse r1 = enrol();
    TokenResponse r2 = refresh(r1.getRefreshToken(), device);
    TokenResponse r3 = refresh(r2.getRefreshToken(), device);
    // r2 is r3's immediate predecessor: its retry is graceful ...
    TokenResponse r4 = refresh(r2.getRefreshToken(), device);
    assertThat(r4.getRefreshToken()).isNotEqualTo(r3.getRefreshToken());
    // ... r1 is older: reuse.
    assertInvalidGrant(r1.getRefreshToken(), device);
    assertThat(broker.auditCount("refresh_token_reuse")).isEqualTo(1);
  }

  @Test
  void retryWithAProofFromAnotherKeyIsRefusedAndDoesNotBurnTheFamily() {
    TokenResponse r1 = enrol();
    TokenResponse r2 = refresh(r1.getRefreshToken(), device);

    assertInvalidGrant(r1.getRefreshToken(), new TestDevice());

    assertThat(broker.auditCount("refresh_token_reuse")).isZero();
    assertThat(refresh(r2.getRefreshToken(), device).getAccessToken()).isNotBlank();
  }

  @Test
  void rotationNeverExtendsTheFamilysAbsoluteLifetime() {
    TokenResponse current = enrol();
    // 13 days between refreshes keeps the idle lifetime (14 days) alive, but 90 days is the end.
    for (int i = 0; i < 6; i++) {
      clock.advance(Duration.ofDays(13));
      current = refresh(current.getRefreshToken(), device);
    }
    assertThat(current.getRefreshTokenExpiresIn().getSeconds()).isLessThanOrEqualTo(Duration.ofDays(12).toSeconds());
    clock.advance(Duration.ofDays(12));
    assertInvalidGrant(current.getRefreshToken(), device);
  }

  @Test
  void idleLifetimeIsEnforcedOnEachToken() {
    TokenResponse r1 = enrol();
    clock.advance(Duration.ofDays(14).minusSeconds(1));
    TokenResponse r2 = refresh(r1.getRefreshToken(), device);
    clock.advance(Duration.ofDays(14));
    assertInvalidGrant(r2.getRefreshToken(), device);
  }

  @Test
  void parallelRefreshesWithTheSameTokenNeverLeaveTwoLiveSuccessors() throws Exception {
    TokenResponse r1 = enrol();
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      String proof = device.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c);
      results.add(pool.submit((Callable<String>) () -> {
        go.await();
        try {
          return broker.token(proof).token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
              .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(r1.getRefreshToken())).build())
              .getRefreshToken();
        } catch (StatusRuntimeException e) {
          return "error:" + e.getStatus().getCode();
        }
      }));
    }
    go.countDown();
    List<String> outcomes = new ArrayList<>();
    for (Future<String> f : results) {
      outcomes.add(f.get(60, TimeUnit.SECONDS));
    }
    pool.shutdown();

    assertThat(liveTokens()).isEqualTo(1);
    List<String> issued = outcomes.stream().filter(o -> !o.startsWith("error:")).toList();
    assertThat(issued).isNotEmpty();
    assertThat(outcomes).allMatch(o -> !o.startsWith("error:INTERNAL") && !o.startsWith("error:UNKNOWN"));
    // Exactly one of the tokens handed out is the live one (presenting a dead one would be reuse), and it works.
    List<String> live = issued.stream().filter(t -> isActive(io.tokenbroker.broker.oauth.SecretHash.sha256Hex(t)))
        .toList();
    assertThat(live).hasSize(1);
    assertThat(refresh(live.get(0), device).getAccessToken()).isNotBlank();
  }

  private boolean isActive(String hash) {
    return broker.context().database().inTransaction(c -> {
      try (var ps = c.prepareStatement("SELECT status FROM refresh_tokens WHERE token_hash = ?")) {
        ps.setString(1, hash);
        try (var rs = ps.executeQuery()) {
          return rs.next() && rs.getString(1).equals("ACTIVE");
        }
      }
    });
  }
}
