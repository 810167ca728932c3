package io.tokenbroker.broker.dpop;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.api.GrpcErrors;
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
import io.tokenbroker.proto.v1.TokenResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 9449 §8 server nonces, switched on with {@code dpop.nonce-required=true}. */
@SoftHsmTest
class DpopNonceTests {
  private static final String HTU = InProcessBroker.tokenHtu();
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  private final TestDevice device = new TestDevice();
  @TempDir Path dir;
  private InProcessBroker broker;
  private TokenRequest redeem;

  DpopNonceTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "dpop.nonce-required=true\ndpop.nonce-lifetime=PT2M\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    redeem = TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build();
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
  }

  private String proofWithNonce(String nonce) {
    return device.proof(HTU, clock.instant(), h -> h, c -> nonce == null ? c : c.claim("nonce", nonce));
  }

  @Test
  void tokenWithoutNonceThenUseDpopNonceWithAFreshNonceAndARetryWithItSucceeds() {
    StatusRuntimeException e = assertOAuthError(() -> broker.token(proofWithNonce(null)).token(redeem),
        Status.Code.UNAUTHENTICATED, "USE_DPOP_NONCE", "use_dpop_nonce");
    String nonce = e.getTrailers().get(GrpcErrors.DPOP_NONCE);
    assertThat(nonce).isNotBlank();

    AtomicReference<Metadata> headers = new AtomicReference<>();
    TokenResponse tokens = broker.token(proofWithNonce(nonce))
        .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, new AtomicReference<>()))
        .token(redeem);

    assertThat(tokens.getAccessToken()).isNotBlank();
    // RFC 9449 §8.2: the server may hand out the next nonce with any response.
    assertThat(headers.get().get(GrpcErrors.DPOP_NONCE)).isNotBlank();
  }

  @Test
  void tokenWithAStaleOrForgedNonceThenUseDpopNonce() {
    StatusRuntimeException e = assertOAuthError(() -> broker.token(proofWithNonce(null)).token(redeem),
        Status.Code.UNAUTHENTICATED, "USE_DPOP_NONCE", "use_dpop_nonce");
    String nonce = e.getTrailers().get(GrpcErrors.DPOP_NONCE);
    clock.advance(Duration.ofMinutes(2));
    assertOAuthError(() -> broker.token(proofWithNonce(nonce)).token(redeem), Status.Code.UNAUTHENTICATED,
        "USE_DPOP_NONCE", "use_dpop_nonce");
    assertOAuthError(() -> broker.token(proofWithNonce("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).token(redeem),
        Status.Code.UNAUTHENTICATED, "USE_DPOP_NONCE", "use_dpop_nonce");
  }
}
