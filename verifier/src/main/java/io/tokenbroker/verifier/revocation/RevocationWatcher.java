package io.tokenbroker.verifier.revocation;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Follows the broker's {@code RevocationService.WatchRevocations} stream into a {@link RevocationList}.
 *
 * <p>The stream protocol (revocation_service.proto): a first call with an empty cursor gets every still-relevant
 * revocation, then {@code SnapshotComplete}, then live events and heartbeats. Whenever the stream ends, for any
 * reason, the watcher reconnects with the cursor of the last message it processed, after an exponential backoff
 * with jitter, so events committed while it was away arrive on resume and nothing is missed. That includes
 * {@code RESOURCE_EXHAUSTED}, which the broker sends when it serves too many streams or when this one fell too far
 * behind: the resume catches up at the watcher's own pace. A broker that says the cursor is unusable
 * ({@code INVALID_ARGUMENT}) or asks for a resync ({@code ABORTED}) gets an empty cursor, i.e. a full snapshot on
 * top of the list already held (events only add).
 *
 * <p>Staleness: the list is <em>fresh</em> once a catch-up has completed and while the broker was heard from
 * (any message) within {@code maxStaleness}. A stream that stays open but silent for longer is cancelled and
 * reopened (a half-open connection). {@link io.tokenbroker.verifier.TokenVerifier} refuses tokens while the list
 * is not fresh, unless told otherwise.
 *
 * <p>The broker authorises this stream for backend callers only: the channel must present the backend's client
 * certificate (mutual TLS). Thread-safety: thread-safe. Owns one daemon thread; {@link #close()} stops it.
 */
public final class RevocationWatcher implements AutoCloseable {
  private static final System.Logger log = System.getLogger(RevocationWatcher.class.getName());

  private final Channel channel;
  private final RevocationList list;
  private final Clock clock;
  private final Duration maxStaleness;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final ScheduledExecutorService executor;
  private final CountDownLatch firstSync = new CountDownLatch(1);

  // Guarded by this.
  private String cursor = "";
  private Instant lastHeard;
  private boolean synced;
  private boolean connected;
  private boolean lastFull;
  private long streamsOpened;
  private long generation;
  private Duration backoff;
  private ClientCallStreamObserver<WatchRevocationsRequest> call;
  private boolean closed;

  /**
   * @param channel a channel to the broker that presents the backend client certificate; not shut down here
   * @param maxStaleness how long without a word from the broker the list still counts as fresh
   * @param initialBackoff the first reconnect delay; it doubles up to {@code maxBackoff}
   */
  public RevocationWatcher(Channel channel, RevocationList list, Clock clock, Duration maxStaleness,
      Duration initialBackoff, Duration maxBackoff) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.list = Objects.requireNonNull(list, "list");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maxStaleness = Objects.requireNonNull(maxStaleness, "maxStaleness");
    this.initialBackoff = Objects.requireNonNull(initialBackoff, "initialBackoff");
    this.maxBackoff = Objects.requireNonNull(maxBackoff, "maxBackoff");
    this.backoff = initialBackoff;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "revocation-watcher");
      t.setDaemon(true);
      return t;
    });
  }

  /** Opens the stream and starts the watchdog that purges old entries and reopens silent streams. */
  public RevocationWatcher start() {
    executor.execute(this::connect);
    long tick = Math.max(100, Math.min(1000, maxStaleness.toMillis() / 4));
    executor.scheduleWithFixedDelay(this::watchdog, tick, tick, TimeUnit.MILLISECONDS);
    return this;
  }

  /** Whether tokens may be judged against the list now (see the class comment). */
  public synchronized boolean isFresh() {
    return synced && lastHeard != null && !clock.instant().isAfter(lastHeard.plus(maxStaleness));
  }

  /** Waits until the first catch-up has completed; returns whether it did within {@code timeout}. */
  public boolean awaitFirstSync(Duration timeout) throws InterruptedException {
    return firstSync.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The stream's health now. */
  public synchronized RevocationStatus status() {
    return new RevocationStatus(isFresh(), connected, Optional.ofNullable(lastHeard), cursor, streamsOpened, lastFull,
        list.size());
  }

  private void connect() {
    ClientResponseObserver<WatchRevocationsRequest, WatchRevocationsResponse> observer;
    String from;
    synchronized (this) {
      if (closed) {
        return;
      }
      long mine = ++generation;
      streamsOpened++;
      from = cursor;
      observer = new StreamObserver(mine);
    }
    try {
      RevocationServiceGrpc.newStub(channel)
          .watchRevocations(WatchRevocationsRequest.newBuilder().setCursor(from).build(), observer);
    } catch (RuntimeException e) {
      ended(generationNow(), Status.fromThrowable(e));
    }
  }

  private synchronized long generationNow() {
    return generation;
  }

  private void ended(long gen, Status status) {
    synchronized (this) {
      if (gen != generation || closed) {
        return;
      }
      generation++;
      connected = false;
      call = null;
      if (status.getCode() == Status.Code.ABORTED || status.getCode() == Status.Code.INVALID_ARGUMENT) {
        cursor = "";
      }
      long delay = backoff.toMillis();
      // Full jitter on the upper half: many verifiers restarting together do not reconnect in step.
      delay = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
      backoff = backoff.multipliedBy(2).compareTo(maxBackoff) > 0 ? maxBackoff : backoff.multipliedBy(2);
      log.log(System.Logger.Level.INFO, "revocation stream ended ({0}); reconnecting in {1} ms from cursor {2}",
          status.getCode(), delay, cursor.isEmpty() ? "(snapshot)" : cursor);
      executor.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }
  }

  private void watchdog() {
    ClientCallStreamObserver<WatchRevocationsRequest> silent = null;
    synchronized (this) {
      list.purgeBefore(clock.instant());
      if (call != null && lastHeard != null && clock.instant().isAfter(lastHeard.plus(maxStaleness))) {
        silent = call;
      }
    }
    if (silent != null) {
      // onError(CANCELLED) follows and schedules the reconnect.
      silent.cancel("no message from the broker within the staleness limit", null);
    }
  }

  @Override
  public void close() {
    ClientCallStreamObserver<WatchRevocationsRequest> open;
    synchronized (this) {
      closed = true;
      open = call;
      call = null;
    }
    if (open != null) {
      open.cancel("verifier closed", null);
    }
    executor.shutdownNow();
  }

  private final class StreamObserver
      implements ClientResponseObserver<WatchRevocationsRequest, WatchRevocationsResponse> {
    private final long gen;

    StreamObserver(long gen) {
      this.gen = gen;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRevocationsRequest> requestStream) {
      synchronized (RevocationWatcher.this) {
        if (gen == generation) {
          call = requestStream;
        }
      }
    }

    @Override
    public void onNext(WatchRevocationsResponse message) {
      boolean firstSyncNow = false;
      synchronized (RevocationWatcher.this) {
        if (gen != generation) {
          return;
        }
        lastHeard = clock.instant();
        switch (message.getKindCase()) {
          case EVENT -> {
            list.apply(message.getEvent());
            cursor = message.getEvent().getCursor();
          }
          case HEARTBEAT -> {
            if (!message.getHeartbeat().getCursor().isEmpty()) {
              cursor = message.getHeartbeat().getCursor();
            }
          }
          case SNAPSHOT_COMPLETE -> {
            if (!message.getSnapshotComplete().getCursor().isEmpty()) {
              cursor = message.getSnapshotComplete().getCursor();
            }
            lastFull = message.getSnapshotComplete().getFullSnapshot();
            connected = true;
            firstSyncNow = !synced;
            synced = true;
            backoff = initialBackoff;
          }
          default -> {
            // A message kind newer than this verifier: it still proves the broker is alive.
          }
        }
      }
      if (firstSyncNow) {
        firstSync.countDown();
      }
    }

    @Override
    public void onError(Throwable t) {
      ended(gen, Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      ended(gen, Status.OK);
    }
  }
}
