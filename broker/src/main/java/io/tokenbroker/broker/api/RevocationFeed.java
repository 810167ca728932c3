package io.tokenbroker.broker.api;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code WatchRevocations} streams. Events are read from the durable log by cursor, never kept only in
 * memory, so a subscriber that reconnects with its last cursor misses nothing. Sending respects gRPC flow
 * control: a subscriber whose transport is not ready simply stops being fed (issuance never waits for it), and
 * one that falls more than {@link #MAX_LAG} events behind is told to resync from a snapshot.
 */
public final class RevocationFeed implements RevocationListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RevocationFeed.class);
  static final int PAGE = 500;
  static final long MAX_LAG = 10_000;

  private final RevocationLog revocations;
  private final Clock clock;
  private final Duration heartbeatInterval;
  private final ScheduledExecutorService executor;
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  /** The newest cursor of the log this feed has read: what subscribers are measured against. */
  private final AtomicLong latestSeen = new AtomicLong();

  public RevocationFeed(RevocationLog revocations, Clock clock, Duration heartbeatInterval) {
    this.revocations = revocations;
    this.clock = clock;
    this.heartbeatInterval = heartbeatInterval;
    this.executor = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "revocation-feed");
      t.setDaemon(true);
      return t;
    });
    executor.scheduleAtFixedRate(this::heartbeat, heartbeatInterval.toMillis(), heartbeatInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public void revocationsCommitted() {
    subscribers.forEach(s -> executor.execute(s::drain));
  }

  /** Starts a stream: a snapshot (empty cursor) or a resume (a cursor), then live events. */
  void subscribe(long cursor, boolean snapshot, ServerCallStreamObserver<WatchRevocationsResponse> observer) {
    Subscriber s = new Subscriber(observer, cursor);
    observer.setOnCancelHandler(() -> subscribers.remove(s));
    observer.setOnReadyHandler(() -> executor.execute(s::drain));
    executor.execute(() -> s.start(snapshot));
  }

  private void heartbeat() {
    long latest;
    try {
      latest = seen(revocations.latestCursor());
    } catch (RuntimeException e) {
      log.warn("revocation feed cannot read the log: {}", e.getClass().getSimpleName());
      return;
    }
    for (Subscriber s : subscribers) {
      s.heartbeat(latest);
    }
  }

  private long seen(long latest) {
    latestSeen.accumulateAndGet(latest, Math::max);
    return latest;
  }

  /** Live streams (past their snapshot or resume). */
  public int subscriberCount() {
    return subscribers.size();
  }

  /** How many cursor positions the furthest-behind live stream has not been sent yet (0 when all are current). */
  public long maxLagEvents() {
    long latest = latestSeen.get();
    return subscribers.stream().mapToLong(s -> Math.max(0, latest - s.cursor)).max().orElse(0);
  }

  /** For how long the furthest-behind live stream has had events waiting for it, in seconds (0 when none has). */
  public double maxLagSeconds() {
    long now = System.nanoTime();
    return subscribers.stream().mapToLong(s -> s.behindSince == Subscriber.CURRENT ? 0 : now - s.behindSince)
        .max().orElse(0) / 1e9;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    subscribers.forEach(s -> s.end(Status.UNAVAILABLE.withDescription("the broker is stopping")));
  }

  private final class Subscriber {
    static final long CURRENT = Long.MIN_VALUE;
    private final ServerCallStreamObserver<WatchRevocationsResponse> observer;
    /** Written under this subscriber's lock; read without it by the lag gauges. */
    private volatile long cursor;
    /** System.nanoTime() since when this stream has had unsent events, or CURRENT. */
    private volatile long behindSince = CURRENT;
    private boolean live;
    private boolean ended;

    Subscriber(ServerCallStreamObserver<WatchRevocationsResponse> observer, long cursor) {
      this.observer = observer;
      this.cursor = cursor;
    }

    synchronized void start(boolean snapshot) {
      try {
        long latest = seen(revocations.latestCursor());
        if (snapshot) {
          // Only revocations whose tokens may still be alive; then the stream goes on from the latest cursor.
          List<RevocationEvent> page;
          long at = 0;
          do {
            page = revocations.relevantAfter(at, clock.instant(), PAGE);
            for (RevocationEvent e : page) {
              observer.onNext(event(e));
              at = e.cursor();
            }
          } while (page.size() == PAGE);
          cursor = Math.max(latest, at);
        } else {
          cursor = sendAfter(cursor, latest);
        }
        observer.onNext(WatchRevocationsResponse.newBuilder().setSnapshotComplete(SnapshotComplete.newBuilder()
            .setCursor(Long.toString(cursor)).setServerTime(Protos.timestamp(clock.instant()))
            .setFullSnapshot(snapshot)).build());
        live = true;
        track(latest);
        subscribers.add(this);
        drain();
      } catch (RuntimeException e) {
        end(Status.UNAVAILABLE.withDescription("cannot read the revocation log"));
      }
    }

    private long sendAfter(long from, long until) {
      long at = from;
      while (at < until) {
        List<RevocationEvent> page = revocations.after(at, PAGE);
        if (page.isEmpty()) {
          break;
        }
        for (RevocationEvent e : page) {
          observer.onNext(event(e));
          at = e.cursor();
        }
      }
      return at;
    }

    synchronized void drain() {
      if (!live || ended) {
        return;
      }
      try {
        long latest = seen(revocations.latestCursor());
        track(latest);
        if (latest - cursor > MAX_LAG) {
          end(Status.ABORTED.withDescription("subscriber fell too far behind; reconnect with an empty cursor to "
              + "resync from a snapshot"));
          return;
        }
        while (observer.isReady() && cursor < latest) {
          List<RevocationEvent> page = revocations.after(cursor, PAGE);
          if (page.isEmpty()) {
            break;
          }
          for (RevocationEvent e : page) {
            observer.onNext(event(e));
            cursor = e.cursor();
          }
        }
        track(latest);
      } catch (RuntimeException e) {
        end(Status.UNAVAILABLE.withDescription("the revocation stream failed; reconnect with your last cursor"));
      }
    }

    /** Starts or stops the lag clock: behind while the log holds events past this stream's cursor. */
    private void track(long latest) {
      if (cursor >= latest) {
        behindSince = CURRENT;
      } else if (behindSince == CURRENT) {
        behindSince = System.nanoTime();
      }
    }

    synchronized void heartbeat(long latest) {
      if (live && !ended) {
        track(latest);
      }
      if (!live || ended || !observer.isReady()) {
        return;
      }
      try {
        observer.onNext(WatchRevocationsResponse.newBuilder().setHeartbeat(Heartbeat.newBuilder()
            .setServerTime(Protos.timestamp(clock.instant())).setCursor(Long.toString(cursor))
            .setHeartbeatInterval(Protos.duration(heartbeatInterval))).build());
      } catch (RuntimeException e) {
        subscribers.remove(this);
      }
      if (latest > cursor) {
        executor.execute(this::drain);
      }
    }

    synchronized void end(Status status) {
      if (ended) {
        return;
      }
      ended = true;
      subscribers.remove(this);
      try {
        observer.onError(status.asRuntimeException());
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
