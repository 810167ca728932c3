package io.tokenbroker.broker.grant;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.TokenResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spent refresh tokens do not pile up for ever (a device refreshing every few minutes leaves about 100,000 a
 * year): the housekeeping deletes those whose idle lifetime ended more than {@code refresh.spent-retention} ago.
 * Shown through the real grant API on SoftHSM2 and an H2 file, over two days of refreshes on a moved clock: the
 * old ones are gone and refused as unknown without touching the family, the recent ones still reveal reuse.
 */
@SoftHsmTest
class SpentRefreshTokenRetentionTests {
  private static final Duration IDLE = Duration.ofHours(2);
  private static final Duration EVERY = Duration.ofMinutes(90);
  private static final int REFRESHES = 34;

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;

  SpentRefreshTokenRetentionTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "refresh.spent-retention=P1D\n");
    Client draft = ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
        Set.of("https://api.example.test"), BindingPolicy.DPOP);
    broker.application().clientRegistry().create(new Client(draft.clientId(), draft.displayName(),
        draft.allowedScopes(), draft.allowedAudiences(), draft.bindingPolicy(), Duration.ofMinutes(5), IDLE,
        Duration.ofDays(90), Duration.ofSeconds(60), null), "test");
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private TokenResponse refresh(String token) {
    return broker.refresh(token, device);
  }

  private int storedTokens() {
    return broker.context().database().inTransaction(c -> {
      try (var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM refresh_tokens")) {
        rs.next();
        return rs.getInt(1);
      }
    });
  }

  @Test
  void spentTokensPastTheRetentionAreDeletedAndRefusedAsUnknownWhileRecentOnesStillRevealReuse() {
    // Token i is issued at i x 90 min; its idle lifetime ends 2 h later.
    List<String> issued = new ArrayList<>();
    issued.add(broker.enrol(device).getRefreshToken());
    for (int i = 1; i <= REFRESHES; i++) {
      clock.advance(EVERY);
      issued.add(refresh(issued.get(i - 1)).getRefreshToken());
    }
    // Now = 51 h after enrolment. Deleted: spent tokens whose idle lifetime ended over a day ago, i.e. issued
    // before hour 25: tokens 0-16.
    int deletable = 17;
    assertThat(storedTokens()).isEqualTo(REFRESHES + 1);

    broker.application().maintain();

    assertThat(storedTokens()).isEqualTo(REFRESHES + 1 - deletable);
    // A deleted token is an unknown one: refused, and the family lives on.
    assertOAuthError(() -> refresh(issued.get(0)), Status.Code.UNAUTHENTICATED, "INVALID_GRANT", "invalid_grant");
    assertOAuthError(() -> refresh(issued.get(deletable - 1)), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
    assertThat(broker.auditCount("refresh_token_reuse")).isZero();
    TokenResponse next = refresh(issued.get(REFRESHES));
    // A spent token still kept is reuse (RFC 9700 §4.14.2): the family is revoked, its live token with it.
    assertOAuthError(() -> refresh(issued.get(deletable)), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
    assertThat(broker.auditCount("refresh_token_reuse")).isEqualTo(1);
    assertOAuthError(() -> refresh(next.getRefreshToken()), Status.Code.UNAUTHENTICATED, "INVALID_GRANT",
        "invalid_grant");
  }
}
