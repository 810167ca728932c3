package io.tokenbroker.broker.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.revocation.RevocationEvent;
import io.tokenbroker.broker.revocation.RevocationListener;
import io.tokenbroker.broker.revocation.RevocationLog;
import io.tokenbroker.proto.v1.Heartbeat;
import io.tokenbroker.proto.v1.RevocationReason;
import io.tokenbroker.proto.v1.SnapshotComplete;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code WatchRevocations} streams.
 *
 * <p>Memory stays bounded whatever the subscribers do. Events are read from the durable log by cursor, a page at
 * a time, and never queued in memory: a subscriber holds only its position. Every message, in the snapshot, the
 * catch-up after a resume and the live tail alike, is written only while gRPC says the transport
 * {@linkplain ServerCallStreamObserver#isReady() is ready}, and writing resumes from the position when it says so
 * again (the on-ready handler). So what a subscriber that does not read costs the broker is gRPC's on-ready
 * threshold (32 KiB) plus the peer's HTTP/2 window, never the revocation log. Issuance never waits for a
 * subscriber.
 *
 * <p>Limits: at most {@code maxSubscribers} streams at a time (more are refused with {@code RESOURCE_EXHAUSTED},
 * reason {@code RATE_LIMITED}); a live subscriber more than {@code maxLag} events behind the log is ended with the
 * same status and told to reconnect with the cursor of the last message it processed: it then catches up at its
 * own pace (a catch-up is not subject to the lag limit). The verifier's {@code RevocationWatcher} does exactly that
 * on any status but {@code ABORTED} and {@code INVALID_ARGUMENT}.
 *
 * <p>Work is done on the feed's own two threads, at most one pending task per subscriber, so the task queue is
 * bounded by the subscriber limit. Thread-safety: thread-safe.
 */
public final class RevocationFeed implements RevocationListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RevocationFeed.class);
  /** Events read from the log per query; what the transport does not take is read again later, not kept. */
  static final int PAGE = 500;

  private final RevocationLog revocations;
  private final Clock clock;
  private final Duration heartbeatInterval;
  private final int maxSubscribers;
  private final long maxLag;
  private final GrpcErrors errors;
  private final ScheduledExecutorService executor;
  /** Every open stream, from the call until it ends: catching up or live. Guarded by itself for the limit. */
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  /** The highest cursor known to be committed (read from the log by every drain and heartbeat). */
  private final AtomicLong latest = new AtomicLong();
  private final AtomicLong eventsSent = new AtomicLong();
  /** A subscriber's {@code behindSince} while it has been sent everything known to be committed. */
  private static final long CURRENT = Long.MIN_VALUE;

  /**
   * @param maxSubscribers streams served at a time
   * @param maxLag how many events a live subscriber may fall behind the log before it is ended
   */
  public RevocationFeed(RevocationLog revocations, Clock clock, Duration heartbeatInterval, int maxSubscribers,
      long maxLag, GrpcErrors errors) {
    this.revocations = revocations;
    this.clock = clock;
    this.heartbeatInterval = heartbeatInterval;
    this.maxSubscribers = maxSubscribers;
    this.maxLag = maxLag;
    this.errors = errors;
    this.executor = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "revocation-feed");
      t.setDaemon(true);
      return t;
    });
    executor.scheduleAtFixedRate(this::heartbeat, heartbeatInterval.toMillis(), heartbeatInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /** How many streams are open (catching up or live). */
  public int subscriberCount() {
    return subscribers.size();
  }

  /**
   * How far the slowest open stream is behind: events committed to the log after the last one it was sent (for a
   * stream still in its snapshot, after the last snapshot event sent). 0 without subscribers.
   */
  public long lag() {
    long newest = latest.get();
    long lag = 0;
    for (Subscriber s : subscribers) {
      lag = Math.max(lag, newest - s.position);
    }
    return lag;
  }

  /**
   * For how long the slowest open stream has had events waiting for it, in seconds; 0 when every stream has
   * been sent everything the feed knows to be committed.
   */
  public double lagSeconds() {
    long now = System.nanoTime();
    long longest = 0;
    for (Subscriber s : subscribers) {
      long since = s.behindSince;
      if (since != CURRENT) {
        longest = Math.max(longest, now - since);
      }
    }
    return longest / 1e9;
  }

  /** Events written to subscriber transports since start (tests compare it with what was appended). */
  long eventsSent() {
    return eventsSent.get();
  }

  /** Open streams whose last send stopped because their transport was not ready (tests wait for it). */
  long stalledSubscribers() {
    return subscribers.stream().filter(s -> s.stalled).count();
  }

  @Override
  public void revocationsCommitted() {
    subscribers.forEach(Subscriber::schedule);
  }

  /** Starts a stream: a snapshot (empty cursor) or a resume (a cursor), then live events. */
  void subscribe(long cursor, boolean snapshot, ServerCallStreamObserver<WatchRevocationsResponse> observer) {
    Subscriber s = new Subscriber(observer, cursor, snapshot);
    boolean admitted;
    synchronized (subscribers) {
      admitted = subscribers.size() < maxSubscribers && subscribers.add(s);
    }
    if (!admitted) {
      observer.onError(errors.toStatus(OAuthError.RATE_LIMITED, "the broker already serves " + maxSubscribers
          + " revocation streams; retry later with your cursor"));
      return;
    }
    // Both handlers are set before this call returns, as gRPC requires; cancellation is delivered only after.
    observer.setOnCancelHandler(s::cancelled);
    observer.setOnReadyHandler(s::schedule);
    s.schedule();
  }

  private void noteLatest(long cursor) {
    latest.accumulateAndGet(cursor, Math::max);
  }

  private void heartbeat() {
    long newest;
    try {
      newest = revocations.latestCursor();
    } catch (RuntimeException e) {
      log.warn("revocation feed cannot read the log: {}", e.getClass().getSimpleName());
      return;
    }
    noteLatest(newest);
    for (Subscriber s : subscribers) {
      s.heartbeat(newest);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
    subscribers.forEach(s -> s.end(errors.toStatus(OAuthError.TEMPORARILY_UNAVAILABLE,
        "the broker is stopping; reconnect with your last cursor")));
  }

  private enum Phase { SNAPSHOT, CATCH_UP, LIVE }

  /**
   * One stream. All writes to the observer happen under this object's lock, on the feed's threads; the position
   * is the cursor of the last event sent (in the snapshot: the last snapshot event sent).
   */
  private final class Subscriber {
    private final ServerCallStreamObserver<WatchRevocationsResponse> observer;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final boolean fullSnapshot;
    private Phase phase;
    /** Where the snapshot or catch-up ends: the latest cursor when the stream began. */
    private long catchUpUntil = -1;
    private volatile long position;
    /** System.nanoTime() since when this stream has had unsent events, or CURRENT (for the lag gauge). */
    private volatile long behindSince = CURRENT;
    private volatile boolean stalled;
    private volatile boolean ended;

    Subscriber(ServerCallStreamObserver<WatchRevocationsResponse> observer, long cursor, boolean snapshot) {
      this.observer = observer;
      this.position = cursor;
      this.fullSnapshot = snapshot;
      this.phase = snapshot ? Phase.SNAPSHOT : Phase.CATCH_UP;
    }

    /** Asks for a drain; at most one is pending per subscriber, so a burst of commits costs one task. */
    void schedule() {
      if (ended || !scheduled.compareAndSet(false, true)) {
        return;
      }
      try {
        executor.execute(() -> {
          scheduled.set(false);
          drain();
        });
      } catch (RejectedExecutionException e) {
        scheduled.set(false); // the feed is closing
      }
    }

    void cancelled() {
      ended = true;
      subscribers.remove(this);
    }

    synchronized void drain() {
      if (ended) {
        return;
      }
      if (observer.isCancelled()) {
        cancelled();
        return;
      }
      try {
        long newest = revocations.latestCursor();
        noteLatest(newest);
        if (catchUpUntil < 0) {
          catchUpUntil = newest;
        }
        if (phase == Phase.LIVE && newest - position > maxLag) {
          log.info("ending a revocation stream {} events behind the log", newest - position);
          end(errors.toStatus(OAuthError.RATE_LIMITED, "this stream fell more than " + maxLag + " revocation "
              + "events behind; reconnect with the cursor of the last message you processed to catch up"));
          return;
        }
        boolean more = true;
        while (more && observer.isReady()) {
          more = switch (phase) {
            case SNAPSHOT -> sendSnapshotPage();
            case CATCH_UP -> sendCatchUpPage();
            case LIVE -> sendLivePage(newest);
          };
        }
        stalled = more && !observer.isReady();
        track(newest);
      } catch (RuntimeException e) {
        end(errors.toStatus(OAuthError.TEMPORARILY_UNAVAILABLE,
            "the revocation stream failed; reconnect with your last cursor"));
      }
    }

    /** Only revocations whose tokens may still be alive; then the stream goes on from the latest cursor. */
    private boolean sendSnapshotPage() {
      List<RevocationEvent> page = revocations.relevantAfter(position, clock.instant(), PAGE);
      if (!sendWhileReady(page)) {
        return true;
      }
      if (page.size() == PAGE) {
        return true;
      }
      position = Math.max(position, catchUpUntil);
      return completeCatchUp();
    }

    /** A resume: every event after the given cursor up to where the log stood when the stream began. */
    private boolean sendCatchUpPage() {
      if (position < catchUpUntil) {
        List<RevocationEvent> page = revocations.after(position, PAGE);
        if (!page.isEmpty()) {
          sendWhileReady(page);
          return true;
        }
      }
      return completeCatchUp();
    }

    private boolean completeCatchUp() {
      if (!observer.isReady()) {
        return true;
      }
      observer.onNext(WatchRevocationsResponse.newBuilder().setSnapshotComplete(SnapshotComplete.newBuilder()
          .setCursor(Long.toString(position)).setServerTime(Protos.timestamp(clock.instant()))
          .setFullSnapshot(fullSnapshot)).build());
      phase = Phase.LIVE;
      return true;
    }

    /** Returns whether more may be waiting. */
    private boolean sendLivePage(long newest) {
      if (position >= newest) {
        return false;
      }
      List<RevocationEvent> page = revocations.after(position, PAGE);
      if (page.isEmpty()) {
        return false;
      }
      sendWhileReady(page);
      return true;
    }

    /** Sends events in order while the transport takes them; returns whether the whole page went. */
    private boolean sendWhileReady(List<RevocationEvent> page) {
      for (RevocationEvent e : page) {
        if (!observer.isReady()) {
          return false;
        }
        observer.onNext(event(e));
        position = e.cursor();
        eventsSent.incrementAndGet();
      }
      return true;
    }

    /** Starts or stops the lag clock: behind while the log holds events past this stream's position. */
    private void track(long newest) {
      if (position >= newest) {
        behindSince = CURRENT;
      } else if (behindSince == CURRENT) {
        behindSince = System.nanoTime();
      }
    }

    synchronized void heartbeat(long newest) {
      if (!ended) {
        track(newest);
      }
      // Only live streams: a heartbeat's cursor must be a safe resume point. Never into a full transport.
      if (ended || phase != Phase.LIVE || !observer.isReady()) {
        return;
      }
      try {
        observer.onNext(WatchRevocationsResponse.newBuilder().setHeartbeat(Heartbeat.newBuilder()
            .setServerTime(Protos.timestamp(clock.instant())).setCursor(Long.toString(position))
            .setHeartbeatInterval(Protos.duration(heartbeatInterval))).build());
      } catch (RuntimeException e) {
        cancelled();
        return;
      }
      if (newest > position) {
        schedule();
      }
    }

    synchronized void end(io.grpc.StatusRuntimeException status) {
      if (ended) {
        return;
      }
      ended = true;
      subscribers.remove(this);
      try {
        observer.onError(status);
      } catch (RuntimeException ignored) {
        // already cancelled
      }
    }
  }

  static WatchRevocationsResponse event(RevocationEvent e) {
    io.tokenbroker.proto.v1.RevocationEvent.Builder b = io.tokenbroker.proto.v1.RevocationEvent.newBuilder()
        .setId(e.eventId()).setCursor(Long.toString(e.cursor())).setRevokedAt(Protos.timestamp(e.revokedAt()))
        .setRelevantUntil(Protos.timestamp(e.relevantUntil()))
        .setReason(RevocationReason.valueOf("REVOCATION_REASON_" + e.reason().name()));
    switch (e.kind()) {
      case DEVICE_ID -> b.setDeviceId(e.subject());
      case REFRESH_FAMILY_ID -> b.setRefreshFamilyId(e.subject());
      case ACCESS_TOKEN_JTI -> b.setAccessTokenJti(e.subject());
      case JKT -> b.setJkt(e.subject());
      case X5T_S256 -> b.setX5TS256(e.subject());
      case CERTIFICATE_SERIAL -> b.setCertificateSerial(e.subject());
      case CLIENT_ID -> b.setClientId(e.subject());
      default -> throw new IllegalStateException("unknown subject " + e.kind());
    }
    return WatchRevocationsResponse.newBuilder().setEvent(b).build();
  }
}
