package io.tokenbroker.broker.api;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.DenyDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.GetDeviceRequest;
import io.tokenbroker.proto.v1.ListAuditEventsRequest;
import io.tokenbroker.proto.v1.ListClientsRequest;
import io.tokenbroker.proto.v1.ListClientsResponse;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.ResumeDeviceRequest;
import io.tokenbroker.proto.v1.RevokeClientDevicesRequest;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.SuspendDeviceRequest;
import io.tokenbroker.proto.v1.TokenRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator API's paging (AIP-158: default 50, at most 500, negative refused) and its input caps
 * ({@code page_token} at most 512 characters, {@code reason} at most 500, {@code device_id} at most 36): each bad
 * input is a clear {@code INVALID_ARGUMENT} / {@code invalid_request} and changes nothing. Over mutual TLS with
 * the operator certificate, on real SoftHSM2 and H2.
 */
@SoftHsmTest
class AdminInputLimitsTests {
  private static final int CLIENTS = 520;

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private ManagedChannel channel;
  private AdminServiceGrpc.AdminServiceBlockingStub admin;

  AdminInputLimitsTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    ClientRegistry registry = broker.application().clientRegistry();
    registry.create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
        Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    for (int i = 1; i < CLIENTS; i++) {
      registry.create(ClientRegistry.draft(String.format("client-%04d", i), "Client " + i, Set.of("a"),
          Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    }
    channel = broker.tlsChannel(Caller.OPERATOR);
    admin = AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    broker.close();
  }

  private static void assertInvalidRequest(ThrowingCallable call) {
    assertOAuthError(call, Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST", "invalid_request");
  }

  private static String token(String key) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void listPagesHoldTheDefaultOrAtMostTheCapAndTheirTokensWalkEveryClientOnce() {
    ListClientsResponse first = admin.listClients(ListClientsRequest.getDefaultInstance());
    assertThat(first.getClientsCount()).as("page_size 0: the default").isEqualTo(50);
    assertThat(first.getNextPageToken()).isNotEmpty();
    assertThat(admin.listClients(ListClientsRequest.newBuilder().setPageSize(7).build()).getClientsCount())
        .isEqualTo(7);
    ListClientsResponse capped = admin.listClients(ListClientsRequest.newBuilder().setPageSize(100_000).build());
    assertThat(capped.getClientsCount()).as("more than 500 is coerced to 500").isEqualTo(500);
    assertThat(capped.getNextPageToken()).isNotEmpty();

    List<String> walked = new ArrayList<>();
    String next = "";
    int pages = 0;
    do {
      ListClientsResponse page = admin.listClients(ListClientsRequest.newBuilder().setPageSize(100_000)
          .setPageToken(next).build());
      page.getClientsList().forEach(c -> walked.add(c.getClientId()));
      next = page.getNextPageToken();
      pages++;
    } while (!next.isEmpty() && pages < 10);
    assertThat(pages).isEqualTo(2);
    assertThat(walked).hasSize(CLIENTS).doesNotHaveDuplicates().isSorted();
  }

  @Test
  void negativePageSizesAndBadOrOversizedPageTokensAreInvalidRequest() {
    assertInvalidRequest(() -> admin.listClients(ListClientsRequest.newBuilder().setPageSize(-1).build()));
    assertInvalidRequest(() -> admin.listDevices(ListDevicesRequest.newBuilder().setPageSize(-1).build()));
    assertInvalidRequest(() -> admin.listAuditEvents(ListAuditEventsRequest.newBuilder().setPageSize(-1).build()));

    // 512 characters is still a token (it names a position after every client); 513 is refused unread.
    assertThat(admin.listClients(ListClientsRequest.newBuilder().setPageToken(token("z".repeat(384))).build())
        .getClientsList()).isEmpty();
    assertInvalidRequest(() -> admin.listClients(ListClientsRequest.newBuilder()
        .setPageToken("A".repeat(513)).build()));
    for (String bad : List.of("not base64!", "%%%", "A")) {
      assertInvalidRequest(() -> admin.listClients(ListClientsRequest.newBuilder().setPageToken(bad).build()));
      assertInvalidRequest(() -> admin.listDevices(ListDevicesRequest.newBuilder().setPageToken(bad).build()));
      assertInvalidRequest(() -> admin.listAuditEvents(ListAuditEventsRequest.newBuilder().setPageToken(bad).build()));
    }
    assertInvalidRequest(() -> admin.listAuditEvents(ListAuditEventsRequest.newBuilder()
        .setPageToken(token("not-a-number")).build()));
    assertInvalidRequest(() -> admin.listAuditEvents(ListAuditEventsRequest.newBuilder()
        .setPageToken("B".repeat(600)).build()));
  }

  @Test
  void oversizedReasonsAndDeviceIdsAreInvalidRequestAndChangeNothing() {
    String deviceId = enrol();
    StartDeviceAuthorizationResponse pending = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    String reason501 = "r".repeat(501);
    Map<String, List<String>> before = broker.grantState();

    assertInvalidRequest(() -> admin.revokeDevice(RevokeDeviceRequest.newBuilder().setDeviceId(deviceId)
        .setReason(reason501).build()));
    assertInvalidRequest(() -> admin.suspendDevice(SuspendDeviceRequest.newBuilder().setDeviceId(deviceId)
        .setReason(reason501).build()));
    assertInvalidRequest(() -> admin.resumeDevice(ResumeDeviceRequest.newBuilder().setDeviceId(deviceId)
        .setReason(reason501).build()));
    assertInvalidRequest(() -> admin.revokeClientDevices(RevokeClientDevicesRequest.newBuilder()
        .setClientId(InProcessBroker.CLIENT).setReason(reason501).build()));
    assertInvalidRequest(() -> admin.denyDeviceAuthorization(DenyDeviceAuthorizationRequest.newBuilder()
        .setUserCode(pending.getUserCode()).setReason(reason501).build()));
    assertInvalidRequest(() -> admin.revokeDevice(RevokeDeviceRequest.newBuilder().setDeviceId(deviceId + "x")
        .setReason("lost").build()));
    assertInvalidRequest(() -> admin.suspendDevice(SuspendDeviceRequest.newBuilder().setDeviceId("d".repeat(10_000))
        .setReason("lost").build()));

    assertThat(broker.grantState()).isEqualTo(before);
    assertThat(admin.getDevice(GetDeviceRequest.newBuilder().setDeviceId(deviceId).build()).getDevice().getState())
        .isEqualTo(DeviceState.DEVICE_STATE_ACTIVE);
    // 500 characters is a reason.
    assertThat(admin.suspendDevice(SuspendDeviceRequest.newBuilder().setDeviceId(deviceId)
        .setReason("r".repeat(500)).build()).getDevice().getState()).isEqualTo(DeviceState.DEVICE_STATE_SUSPENDED);
  }

  /** A device through the whole flow; returns its id (36 characters). */
  private String enrol() {
    TestDevice device = new TestDevice();
    StartDeviceAuthorizationResponse started = broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
    broker.application().deviceFlow().approve(started.getUserCode(), "alice", "test");
    String id = broker.token(device.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c))
        .token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build()).getDeviceId();
    assertThat(id).hasSize(36);
    return id;
  }
}
