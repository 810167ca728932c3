package io.tokenbroker.agent.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.DerivedStoreKey;
import io.tokenbroker.agent.store.StateDirectory;
import io.tokenbroker.agent.store.StateStore;
import io.tokenbroker.agent.testing.ScriptedBroker;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.TokenRequest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenKeeperTest {
  private static final String RT0 = "refresh-token-0";
  @TempDir Path tmp;
  private ScriptedBroker broker;
  private StateStore store;
  private TokenKeeper keeper;
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  @BeforeEach
  void setUp() throws Exception {
    broker = new ScriptedBroker();
    Path dir = tmp.resolve("state");
    store = new StateStore(StateDirectory.open(dir), DerivedStoreKey.open(dir.resolve("device.secret"), true));
    SoftwareDpopKey key = SoftwareDpopKey.generate();
    AgentState enrolled = AgentState.withKey("c", key.privateJwkJson(), null).withTokens("dev-1", RT0, null, "at-0",
        Instant.now(), List.of("https://api.example"), List.of(), Instant.now());
    store.save(enrolled);
    BrokerClient client = new BrokerClient(broker.channel(), "https://broker.test", "c",
        new DpopProofs(key, Clock.systemUTC()), Duration.ofSeconds(5));
    keeper = new TokenKeeper(store, enrolled, client, List.of(), Clock.systemUTC(), nanos::get);
  }

  @AfterEach
  void tearDown() {
    broker.close();
  }

  private String presented(int call) {
    return ((TokenRequest) broker.calls.get(call).request()).getRefreshToken().getRefreshToken();
  }

  @Test
  void rotationIsJournalledBeforeTheRequestAndTheNewTokenStoredAfterIt() throws Exception {
    AtomicReference<AgentState> seenByBroker = new AtomicReference<>();
    broker.answers.add(() -> {
      seenByBroker.set(store.load().orElseThrow());
      return ScriptedBroker.tokens("at-1", "refresh-token-1", 300);
    });
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.REFRESHED);
    assertThat(seenByBroker.get().rotationStartedAt()).as("journal durable before the request").isNotNull();
    assertThat(seenByBroker.get().refreshToken()).isEqualTo(RT0);
    AgentState after = store.load().orElseThrow();
    assertThat(after.refreshToken()).isEqualTo("refresh-token-1");
    assertThat(after.rotationStartedAt()).isNull();
    assertThat(keeper.currentToken()).get().extracting(TokenKeeper.CurrentToken::accessToken).isEqualTo("at-1");
    // Lifetime on the monotonic clock: gone once 300 s have passed, whatever the wall clock says.
    nanos.addAndGet(Duration.ofSeconds(299).toNanos());
    assertThat(keeper.currentToken()).isEmpty();
    var proof = SignedJWT.parse(broker.calls.get(0).proof()).getJWTClaimsSet();
    assertThat(proof.getStringClaim("htu")).isEqualTo("https://broker.test/tokenbroker.v1.TokenService/Token");
    assertThat(proof.getStringClaim("htm")).isEqualTo("POST");
  }

  @Test
  void aLostResponseKeepsTheOldTokenAndTheJournalAndTheRetryPresentsTheSameToken() {
    broker.answers.add(() -> Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
    broker.answers.add(() -> ScriptedBroker.tokens("at-1", "refresh-token-1", 300));
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.RETRY);
    AgentState pending = store.load().orElseThrow();
    assertThat(pending.refreshToken()).isEqualTo(RT0);
    assertThat(pending.rotationStartedAt()).isNotNull();
    assertThat(keeper.status().phase()).isEqualTo(AgentPhase.RETRYING);
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.REFRESHED);
    assertThat(presented(0)).isEqualTo(RT0);
    assertThat(presented(1)).isEqualTo(RT0);
  }

  @Test
  void revokedDeviceWipesItsTokensAndNeverCallsAgain() {
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_DEVICE_REVOKED, "revoked", null));
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.REVOKED);
    AgentState after = store.load().orElseThrow();
    assertThat(after.refreshToken()).isNull();
    assertThat(after.accessToken()).isNull();
    assertThat(after.deviceState()).isEqualTo("revoked");
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.REVOKED);
    assertThat(broker.calls).hasSize(1);
    assertThat(keeper.status().phase()).isEqualTo(AgentPhase.BLOCKED);
  }

  @Test
  void suspendedDeviceKeepsItsRefreshTokenAndWaits() {
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_DEVICE_SUSPENDED, "suspended", null));
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.SUSPENDED);
    AgentState after = store.load().orElseThrow();
    assertThat(after.refreshToken()).isEqualTo(RT0);
    assertThat(after.deviceState()).isEqualTo("suspended");
    assertThat(after.lastErrorReason()).isEqualTo("DEVICE_SUSPENDED");
    assertThat(after.lastError()).isEqualTo("invalid_grant");
  }

  @Test
  void invalidGrantMeansANewLoginIsNeeded() {
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_INVALID_GRANT, "family revoked", null));
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.LOGIN_REQUIRED);
    assertThat(store.load().orElseThrow().refreshToken()).isNull();
    assertThat(keeper.status().phase()).isEqualTo(AgentPhase.LOGIN_REQUIRED);
  }

  @Test
  void useDpopNonceIsRetriedOnceWithTheServersNonce() throws Exception {
    broker.answers.add(() -> ScriptedBroker.error(ErrorReason.ERROR_REASON_USE_DPOP_NONCE, "nonce", "n-42"));
    broker.answers.add(() -> ScriptedBroker.tokens("at-1", "refresh-token-1", 300));
    assertThat(keeper.refresh()).isEqualTo(TokenKeeper.Outcome.REFRESHED);
    assertThat(broker.calls).hasSize(2);
    assertThat(SignedJWT.parse(broker.calls.get(0).proof()).getJWTClaimsSet().getClaim("nonce")).isNull();
    assertThat(SignedJWT.parse(broker.calls.get(1).proof()).getJWTClaimsSet().getStringClaim("nonce"))
        .isEqualTo("n-42");
  }
}
