package io.tokenbroker.agent.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.ErrorInfo;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import io.tokenbroker.agent.refresh.TokenKeeper;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.DerivedStoreKey;
import io.tokenbroker.agent.store.StateDirectory;
import io.tokenbroker.agent.store.StateStore;
import io.tokenbroker.agent.testing.ScriptedBroker;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import io.tokenbroker.proto.v1.GetAgentStatusRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local API on a real Unix domain socket. */
class LocalApiTest {
  @TempDir Path tmp;
  private ScriptedBroker broker;
  private TokenKeeper keeper;
  private DpopProofs proofs;
  private LocalApiServer server;

  @BeforeEach
  void setUp() throws Exception {
    broker = new ScriptedBroker();
    Path dir = tmp.resolve("state");
    StateStore store = new StateStore(StateDirectory.open(dir), DerivedStoreKey.open(dir.resolve("secret"), true));
    SoftwareDpopKey key = SoftwareDpopKey.generate();
    AgentState state = AgentState.withKey("c", key.privateJwkJson(), null).withTokens("dev-1", "rt-0", null, "at-0",
        Instant.now(), List.of(), List.of(), Instant.now());
    store.save(state);
    proofs = new DpopProofs(key, Clock.systemUTC());
    keeper = new TokenKeeper(store, state, new BrokerClient(broker.channel(), "https://broker.test:8443", "c", proofs,
        Duration.ofSeconds(30)), List.of(), Clock.systemUTC(), System::nanoTime);
  }

  @AfterEach
  void tearDown() {
    if (server != null) {
      server.close();
    }
    broker.close();
  }

  private LocalApiServer serve(PeerCredentialsFilter filter) {
    server = LocalApiServer.start(tmp.resolve("agent.sock"), Optional.empty(), filter,
        new DeviceAgentServiceImpl(keeper, proofs, "https://broker.test:8443", () -> { }));
    return server;
  }

  @Test
  void servesTokensProofsAndStatusAndKeepsAnsweringWhileARefreshIsInFlight() throws Exception {
    serve(new PeerCredentialsFilter(LocalApiServer.selfUid(), List.of(), List.of()));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socket()))).isEqualTo("rw-rw----");
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch inFlight = new CountDownLatch(1);
    broker.answers.add(() -> ScriptedBroker.tokens("at-1", "rt-1", 300));
    broker.answers.add(() -> {
      inFlight.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return ScriptedBroker.tokens("at-2", "rt-2", 300);
    });
    try (LocalApiClient app = LocalApiClient.connect(server.socket()).orElseThrow()) {
      StatusRuntimeException none = catchThrowableOfType(StatusRuntimeException.class,
          () -> app.stub().getAccessToken(GetAccessTokenRequest.getDefaultInstance()));
      assertThat(reason(none)).isEqualTo("TEMPORARILY_UNAVAILABLE");

      keeper.refresh();
      CompletableFuture<TokenKeeper.Outcome> slow = CompletableFuture.supplyAsync(keeper::refresh);
      assertThat(inFlight.await(10, TimeUnit.SECONDS)).isTrue();
      // The refresh is blocked inside the broker; the socket still answers from memory.
      assertThat(app.stub().getAccessToken(GetAccessTokenRequest.getDefaultInstance()).getAccessToken())
          .isEqualTo("at-1");
      assertThat(app.stub().getAgentStatus(GetAgentStatusRequest.getDefaultInstance()).getDeviceId())
          .isEqualTo("dev-1");
      String proof = app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("POST")
          .setUri("https://api.example/x.Y/Z").setAccessToken("at-1").setNonce("n").build()).getProof();
      SignedJWT jwt = SignedJWT.parse(proof);
      assertThat(jwt.verify(new ECDSAVerifier((ECKey) jwt.getHeader().getJWK()))).isTrue();
      assertThat(jwt.getJWTClaimsSet().getStringClaim("ath")).isEqualTo(DpopProofs.ath("at-1"));
      release.countDown();
      assertThat(slow.get(10, TimeUnit.SECONDS)).isEqualTo(TokenKeeper.Outcome.REFRESHED);
      assertThat(app.stub().getAccessToken(GetAccessTokenRequest.getDefaultInstance()).getAccessToken())
          .isEqualTo("at-2");

      StatusRuntimeException toBroker = catchThrowableOfType(StatusRuntimeException.class,
          () -> app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("POST")
              .setUri("https://broker.test:8443/tokenbroker.v1.TokenService/Token").build()));
      assertThat(toBroker.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(reason(toBroker)).isEqualTo("UNAUTHORIZED_CLIENT");
      StatusRuntimeException badUri = catchThrowableOfType(StatusRuntimeException.class,
          () -> app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("POST")
              .setUri("https://api.example/x?secret=1").build()));
      assertThat(reason(badUri)).isEqualTo("INVALID_REQUEST");
    }
  }

  @Test
  void peersOutsideTheAllowListAreDisconnected() {
    // Pretend the agent runs as another uid and only uid 4242 / gid 4242 may connect: this test process may not.
    serve(new PeerCredentialsFilter(-2, List.of(4242), List.of(4242)));
    try (LocalApiClient app = LocalApiClient.connect(server.socket()).orElseThrow()) {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> app.stub().getAgentStatus(GetAgentStatusRequest.getDefaultInstance()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void allowListRules() {
    PeerCredentialsFilter open = new PeerCredentialsFilter(1000, List.of(), List.of());
    assertThat(open.allowed(2000, 2000)).isTrue();
    PeerCredentialsFilter listed = new PeerCredentialsFilter(1000, List.of(1001), List.of(3000));
    assertThat(listed.allowed(1000, 1)).as("the agent's own uid").isTrue();
    assertThat(listed.allowed(1001, 1)).isTrue();
    assertThat(listed.allowed(2000, 3000)).isTrue();
    assertThat(listed.allowed(2000, 2000)).isFalse();
  }

  private static String reason(StatusRuntimeException e) throws Exception {
    return StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class).getReason();
  }

}
