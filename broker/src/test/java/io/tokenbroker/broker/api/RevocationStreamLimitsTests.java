package io.tokenbroker.broker.api;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.assertOAuthError;
import static io.tokenbroker.broker.testing.GrpcErrorAssert.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.tokenbroker.broker.revocation.RevocationReason;
import io.tokenbroker.broker.revocation.SubjectKind;
import io.tokenbroker.broker.store.JdbcRevocationLog;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.InProcessBroker.Caller;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code WatchRevocations} under gRPC flow control, over real TLS: a backend that does not read costs the broker
 * a bounded amount whatever is appended, falls behind and is ended with a status that tells it to resume, and
 * loses nothing when it does; the number of streams is capped. Real SoftHSM2, H2 file and Netty TLS.
 */
@SoftHsmTest
class RevocationStreamLimitsTests {
  private static final int MAX_LAG = 2000;
  /** The slow reader's HTTP/2 window: small, so that what reaches it before it reads is small too. */
  private static final int READER_WINDOW = 16 * 1024;

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private final List<ManagedChannel> channels = new ArrayList<>();

  RevocationStreamLimitsTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "revocation.max-subscribers=2\n"
        + "revocation.max-subscriber-lag=" + MAX_LAG + "\n");
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    broker.close();
  }

  private RevocationFeed feed() {
    return broker.application().revocationFeed();
  }

  /** Appends {@code n} device revocations in one transaction, tells the feed, returns their device ids in order. */
  private List<String> append(int n) {
    JdbcRevocationLog log = new JdbcRevocationLog(broker.context().database());
    Instant now = clock.instant();
    List<String> devices = new ArrayList<>();
    broker.context().database().inTransaction(() -> {
      for (int i = 0; i < n; i++) {
        String device = UUID.randomUUID().toString();
        log.append(now, now.plus(Duration.ofHours(1)), RevocationReason.DEVICE_REVOKED, SubjectKind.DEVICE_ID, device);
        devices.add(device);
      }
      return null;
    });
    feed().revocationsCommitted();
    return devices;
  }

  /** A backend stream that reads {@code initialRequests} messages, then only what {@link Reader#read} asks for. */
  private Reader watch(String cursor, int initialRequests) throws Exception {
    ManagedChannel channel = broker.tlsChannelBuilder(Caller.BACKEND).flowControlWindow(READER_WINDOW).build();
    channels.add(channel);
    Reader reader = new Reader(initialRequests);
    RevocationServiceGrpc.newStub(channel).watchRevocations(WatchRevocationsRequest.newBuilder().setCursor(cursor)
        .build(), reader);
    return reader;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  /** A client that exerts flow control: gRPC delivers (and returns HTTP/2 window for) only what it requested. */
  static final class Reader implements ClientResponseObserver<WatchRevocationsRequest, WatchRevocationsResponse> {
    final BlockingQueue<WatchRevocationsResponse> messages = new LinkedBlockingQueue<>();
    final CompletableFuture<Throwable> ended = new CompletableFuture<>();
    private final int initialRequests;
    private volatile ClientCallStreamObserver<WatchRevocationsRequest> call;

    Reader(int initialRequests) {
      this.initialRequests = initialRequests;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRevocationsRequest> requestStream) {
      call = requestStream;
      requestStream.disableAutoRequestWithInitial(initialRequests);
    }

    @Override
    public void onNext(WatchRevocationsResponse value) {
      messages.add(value);
    }

    @Override
    public void onError(Throwable t) {
      ended.complete(t);
    }

    @Override
    public void onCompleted() {
      ended.complete(null);
    }

    void read(int n) {
      call.request(n);
    }

    void cancel() {
      call.cancel("test cancels", null);
    }

    /** The next message that is not a heartbeat. */
    WatchRevocationsResponse next() throws InterruptedException {
      while (true) {
        WatchRevocationsResponse m = messages.poll(30, TimeUnit.SECONDS);
        assertThat(m).as("a stream message (ended: %s)", ended.getNow(null)).isNotNull();
        if (!m.hasHeartbeat()) {
          return m;
        }
      }
    }

    /** Events up to the next SnapshotComplete, which is returned last. */
    List<WatchRevocationsResponse> untilSnapshotComplete() throws InterruptedException {
      List<WatchRevocationsResponse> out = new ArrayList<>();
      WatchRevocationsResponse m;
      do {
        m = next();
        out.add(m);
      } while (!m.hasSnapshotComplete());
      return out;
    }
  }

  private static List<String> devicesOf(List<WatchRevocationsResponse> messages) {
    return messages.stream().filter(WatchRevocationsResponse::hasEvent).map(m -> m.getEvent().getDeviceId()).toList();
  }

  private static void assertCursorsAscend(List<WatchRevocationsResponse> messages) {
    long previous = 0;
    for (WatchRevocationsResponse m : messages) {
      if (m.hasEvent()) {
        long cursor = Long.parseLong(m.getEvent().getCursor());
        assertThat(cursor).isGreaterThan(previous);
        previous = cursor;
      }
    }
  }

  @Test
  void resumeFromTheStartOfALargeLogGoesAtTheReadersPaceAndArrivesCompleteAndInOrder() throws Exception {
    List<String> appended = append(5000);

    Reader reader = watch("0", 0);
    await("the catch-up stops at the full transport", () -> feed().stalledSubscribers() == 1);
    long writtenBeforeAnyRead = feed().eventsSent();
    // What the broker wrote is what its transport buffer and the reader's 16 KiB window hold (about 400 events of
    // ~120 bytes), not the log: writing all 5000 would show as 5000 here.
    assertThat(writtenBeforeAnyRead).isPositive().isLessThan(1500);
    assertThat(feed().lag()).isGreaterThanOrEqualTo(5000 - writtenBeforeAnyRead);
    assertThat(feed().subscriberCount()).isEqualTo(1);

    reader.read(Integer.MAX_VALUE);
    List<WatchRevocationsResponse> got = reader.untilSnapshotComplete();
    assertThat(devicesOf(got)).containsExactlyElementsOf(appended);
    assertCursorsAscend(got);
    WatchRevocationsResponse done = got.get(got.size() - 1);
    assertThat(done.getSnapshotComplete().getFullSnapshot()).isFalse();
    assertThat(done.getSnapshotComplete().getCursor()).isEqualTo(got.get(got.size() - 2).getEvent().getCursor());
    assertThat(feed().lag()).isZero();
  }

  @Test
  void aLiveSubscriberThatStopsReadingIsEndedWhenTooFarBehindAndResumesFromItsCursorWithoutLoss() throws Exception {
    Reader reader = watch("", 1);
    assertThat(reader.next().getSnapshotComplete().getFullSnapshot()).isTrue();

    List<String> first = append(1500);
    await("the live tail stops at the full transport", () -> feed().stalledSubscribers() == 1);
    long written = feed().eventsSent();
    assertThat(written).isPositive().isLessThan(1000);
    assertThat(feed().lag()).isEqualTo(1500 - written);
    assertThat(feed().subscriberCount()).as("behind, but within the limit").isEqualTo(1);

    List<String> second = append(1500);
    await("the subscriber more than " + MAX_LAG + " behind is ended", () -> feed().subscriberCount() == 0);
    assertThat(feed().eventsSent()).as("nothing more was pushed at it").isEqualTo(written);

    // The reader drains what reached it, then learns why the stream ended.
    reader.read(Integer.MAX_VALUE);
    Throwable end = reader.ended.get(30, TimeUnit.SECONDS);
    assertThat(end).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException status = (StatusRuntimeException) end;
    assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(errorInfo(status).getReason()).isEqualTo("RATE_LIMITED");
    assertThat(status.getStatus().getDescription()).contains("reconnect with the cursor of the last message");
    List<WatchRevocationsResponse> before = new ArrayList<>(reader.messages);
    before.removeIf(m -> !m.hasEvent());
    assertThat(before).hasSize((int) written);

    // RevocationWatcher keeps its cursor on RESOURCE_EXHAUSTED: the resume brings exactly the rest, in order.
    Reader resumed = watch(before.get(before.size() - 1).getEvent().getCursor(), Integer.MAX_VALUE);
    List<WatchRevocationsResponse> rest = resumed.untilSnapshotComplete();
    List<String> all = new ArrayList<>(first);
    all.addAll(second);
    List<String> received = new ArrayList<>(devicesOf(before));
    received.addAll(devicesOf(rest));
    assertThat(received).containsExactlyElementsOf(all);
    assertCursorsAscend(rest);
    assertThat(rest.get(rest.size() - 1).getSnapshotComplete().getFullSnapshot()).isFalse();
  }

  @Test
  void streamsBeyondTheLimitAreRefusedAndAStreamCancelledMidCatchUpFreesItsPlace() throws Exception {
    append(3000);
    Reader stalled = watch("0", 0);
    await("first stream stalled in its catch-up", () -> feed().stalledSubscribers() == 1);
    Reader live = watch("", Integer.MAX_VALUE);
    assertThat(devicesOf(live.untilSnapshotComplete())).hasSize(3000);

    Reader refused = watch("", Integer.MAX_VALUE);
    Throwable end = refused.ended.get(30, TimeUnit.SECONDS);
    assertThat(end).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) end).getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(errorInfo((StatusRuntimeException) end).getReason()).isEqualTo("RATE_LIMITED");
    assertThat(feed().subscriberCount()).isEqualTo(2);

    stalled.cancel();
    await("the cancelled stream is unregistered", () -> feed().subscriberCount() == 1);
    Reader admitted = watch("", Integer.MAX_VALUE);
    assertThat(admitted.untilSnapshotComplete()).last().matches(WatchRevocationsResponse::hasSnapshotComplete);
    assertThat(feed().subscriberCount()).isEqualTo(2);
  }

  @Test
  void streamsCancelledAsSoonAsTheyOpenLeaveNoSubscriberBehind() throws Exception {
    append(1000);
    for (int i = 0; i < 20; i++) {
      Reader r = watch(i % 2 == 0 ? "" : "0", 0);
      r.cancel();
    }
    await("every cancelled stream unregistered", () -> feed().subscriberCount() == 0);
    Reader after = watch("", Integer.MAX_VALUE);
    assertThat(devicesOf(after.untilSnapshotComplete())).hasSize(1000);
  }

  @Test
  void malformedCursorsAreRefusedWithInvalidRequestAndOpenNoStream() throws Exception {
    ManagedChannel channel = broker.tlsChannel(Caller.BACKEND);
    channels.add(channel);
    for (String cursor : List.of("abc", "-1", "1e3", " 1", "9".repeat(30), "1".repeat(1025))) {
      assertOAuthError(() -> {
        Iterator<WatchRevocationsResponse> it = RevocationServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .watchRevocations(WatchRevocationsRequest.newBuilder().setCursor(cursor).build());
        it.next();
      }, Status.Code.INVALID_ARGUMENT, "INVALID_REQUEST", "invalid_request");
    }
    assertThat(feed().subscriberCount()).isZero();
  }
}
