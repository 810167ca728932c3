package io.tokenbroker.verifier.testing;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.proto.v1.Heartbeat;
import io.tokenbroker.proto.v1.RevocationEvent;
import io.tokenbroker.proto.v1.RevocationReason;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.SnapshotComplete;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * {@code RevocationService.WatchRevocations} with the cursor semantics of revocation_service.proto, over an
 * in-memory log: an empty cursor gets every event, a cursor only the later ones, then {@code SnapshotComplete},
 * then live events. Tests can end every open stream (a broker going away) and read the cursors callers sent.
 */
public final class FakeRevocationService extends RevocationServiceGrpc.RevocationServiceImplBase {
  private final List<RevocationEvent> log = new ArrayList<>();
  private final List<ServerCallStreamObserver<WatchRevocationsResponse>> open = new CopyOnWriteArrayList<>();
  private final List<String> requestedCursors = new CopyOnWriteArrayList<>();
  private volatile boolean refuse;

  /** Appends a revocation of {@code subject} made at {@code revokedAt} and sends it to open streams. */
  public synchronized RevocationEvent revoke(Consumer<RevocationEvent.Builder> subject, Instant revokedAt) {
    long cursor = log.size() + 1;
    RevocationEvent.Builder b = RevocationEvent.newBuilder().setId("ev-" + cursor).setCursor(Long.toString(cursor))
        .setRevokedAt(timestamp(revokedAt)).setRelevantUntil(timestamp(revokedAt.plus(Duration.ofMinutes(6))))
        .setReason(RevocationReason.REVOCATION_REASON_DEVICE_REVOKED);
    subject.accept(b);
    RevocationEvent event = b.build();
    log.add(event);
    for (ServerCallStreamObserver<WatchRevocationsResponse> o : open) {
      o.onNext(WatchRevocationsResponse.newBuilder().setEvent(event).build());
    }
    return event;
  }

  /** Sends a heartbeat to every open stream. */
  public synchronized void heartbeat(Instant now) {
    for (ServerCallStreamObserver<WatchRevocationsResponse> o : open) {
      o.onNext(WatchRevocationsResponse.newBuilder().setHeartbeat(Heartbeat.newBuilder()
          .setCursor(Long.toString(log.size())).setServerTime(timestamp(now))).build());
    }
  }

  /** Ends every open stream with UNAVAILABLE, as a broker that stops does; refuses new ones while {@code refuse}. */
  public synchronized void disconnectAll(boolean refuseNew) {
    endAll(Status.UNAVAILABLE.withDescription("broker stopping"), refuseNew);
  }

  /** Ends every open stream with {@code status} (e.g. the broker's "too far behind"); refuses new ones while {@code refuse}. */
  public synchronized void endAll(Status status, boolean refuseNew) {
    this.refuse = refuseNew;
    for (ServerCallStreamObserver<WatchRevocationsResponse> o : open) {
      o.onError(status.asRuntimeException());
    }
    open.clear();
  }

  public void acceptNew() {
    this.refuse = false;
  }

  public List<String> requestedCursors() {
    return List.copyOf(requestedCursors);
  }

  public int openStreams() {
    return open.size();
  }

  @Override
  public synchronized void watchRevocations(WatchRevocationsRequest request,
      StreamObserver<WatchRevocationsResponse> responseObserver) {
    requestedCursors.add(request.getCursor());
    if (refuse) {
      responseObserver.onError(Status.UNAVAILABLE.withDescription("broker down").asRuntimeException());
      return;
    }
    ServerCallStreamObserver<WatchRevocationsResponse> observer =
        (ServerCallStreamObserver<WatchRevocationsResponse>) responseObserver;
    long from = request.getCursor().isEmpty() ? 0 : Long.parseLong(request.getCursor());
    for (RevocationEvent e : log.subList((int) Math.min(from, log.size()), log.size())) {
      observer.onNext(WatchRevocationsResponse.newBuilder().setEvent(e).build());
    }
    observer.onNext(WatchRevocationsResponse.newBuilder().setSnapshotComplete(SnapshotComplete.newBuilder()
        .setCursor(Long.toString(log.size())).setFullSnapshot(request.getCursor().isEmpty())).build());
    observer.setOnCancelHandler(() -> open.remove(observer));
    open.add(observer);
  }

  public static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }
}
