package io.tokenbroker.broker.api;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC listener's limits ({@link GrpcServerLimits}) on the TLS server the tests share with {@code broker serve}
 * ({@link BrokerServer#overNetty}): sizes straddling each limit, the per-connection call limit, and a listener
 * that keeps serving after a refusal. Real SoftHSM2, H2 file and Netty TLS on loopback.
 */
@SoftHsmTest
class GrpcListenerLimitsTests {
  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private ManagedChannel channel;

  GrpcListenerLimitsTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    channel = broker.tlsChannel(Caller.ANONYMOUS);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    broker.close();
  }

  private DeviceAuthorizationServiceGrpc.DeviceAuthorizationServiceBlockingStub stub() {
    return DeviceAuthorizationServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private static StartDeviceAuthorizationRequest start(String clientId) {
    return StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).build();
  }

  private void assertStillServes() {
    assertThat(stub().startDeviceAuthorization(start(InProcessBroker.CLIENT)).getUserCode()).hasSize(9);
  }

  @Test
  void aMessageOver64KibIsRefusedWithResourceExhaustedAndTheListenerKeepsServing() {
    // 63 KiB passes the transport and reaches the API's own field check.
    assertOAuthError(() -> stub().startDeviceAuthorization(start("c".repeat(63 * 1024))), Status.Code.INVALID_ARGUMENT,
        "INVALID_REQUEST", "invalid_request");

    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> stub().startDeviceAuthorization(start("c".repeat(65 * 1024))));
    assertThat(e).isNotNull();
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(e.getStatus().getDescription()).contains(Integer.toString(GrpcServerLimits.MAX_MESSAGE_BYTES));
    assertStillServes();
  }

  @Test
  void metadataOver16KibIsRefusedAndTheListenerKeepsServing() {
    // A header the broker ignores, so nothing but the transport limit can refuse it (the dpop value has its own
    // 8 KiB rule). 15 KiB would be refused by Netty's default (8 KiB) limit; 17 KiB is over the broker's 16 KiB.
    assertThat(stub().withInterceptors(padding(15 * 1024)).startDeviceAuthorization(start(InProcessBroker.CLIENT))
        .getUserCode()).hasSize(9);

    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> stub().withInterceptors(padding(17 * 1024)).startDeviceAuthorization(start(InProcessBroker.CLIENT)));
    assertThat(e).isNotNull();
    // The listener announces its limit in its HTTP/2 SETTINGS (MAX_HEADER_LIST_SIZE), and grpc-java clients refuse
    // to send more: the call fails before it leaves the client, naming the broker's limit.
    assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(Status.Code.INTERNAL);
    assertThat(causes(e)).contains("max allowed size (" + GrpcServerLimits.MAX_METADATA_BYTES + ")");
    assertStillServes();
  }

  static String causes(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t).append('\n');
    }
    return all.toString();
  }

  private static io.grpc.ClientInterceptor padding(int bytes) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("x-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(bytes));
    return MetadataUtils.newAttachHeadersInterceptor(md);
  }

  @Test
  void callsBeyondOneHundredOnAConnectionWaitUntilAnotherEnds() throws Exception {
    ManagedChannel backend = broker.tlsChannel(Caller.BACKEND);
    RevocationFeed feed = broker.application().revocationFeed();
    List<io.grpc.Context.CancellableContext> calls = new ArrayList<>();
    CountDownLatch lastStarted = new CountDownLatch(1);
    try {
      for (int i = 0; i <= GrpcServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION; i++) {
        boolean last = i == GrpcServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION;
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        calls.add(call);
        call.run(() -> RevocationServiceGrpc.newStub(backend).watchRevocations(
            WatchRevocationsRequest.getDefaultInstance(), new StreamObserver<WatchRevocationsResponse>() {
              @Override
              public void onNext(WatchRevocationsResponse value) {
                if (last) {
                  lastStarted.countDown();
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            }));
        if (i == GrpcServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION - 1) {
          await(() -> feed.subscriberCount() == GrpcServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION);
        }
      }
      assertThat(lastStarted.await(1, TimeUnit.SECONDS)).as("the 101st call waits").isFalse();
      assertThat(feed.subscriberCount()).isEqualTo(GrpcServerLimits.MAX_CONCURRENT_CALLS_PER_CONNECTION);

      calls.get(0).cancel(null);
      assertThat(lastStarted.await(30, TimeUnit.SECONDS)).as("the 101st call starts once one ended").isTrue();
    } finally {
      calls.forEach(c -> c.cancel(null));
      backend.shutdownNow();
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }
}
