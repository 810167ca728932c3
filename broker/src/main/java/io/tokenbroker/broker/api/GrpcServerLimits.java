package io.tokenbroker.broker.api;

import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gRPC listener's resource limits, in one place: {@code broker serve} and the tests' TLS server apply exactly
 * these (through {@link BrokerServer#overNetty}), and the tests' in-process server applies the transport-neutral
 * ones.
 *
 * <p>Why each value:
 * <ul>
 *   <li>Messages 64 KiB, metadata 16 KiB: no request of this API needs more (the largest, a CSR, is at most
 *       8 KiB; a DPoP proof at most 8 KiB). grpc-java's metadata limit also replaces Netty's default (8 KiB).
 *   <li>100 concurrent calls per connection: the HTTP/2 advice (RFC 9113 §6.5.2: not below 100). Devices make one
 *       call at a time; a backend holds one stream plus its introspection calls. Clients queue calls beyond it.
 *   <li>Keepalive: the broker pings an idle-looking peer every 2 min and drops it after 20 s without an answer, so
 *       half-open connections (a verifier's revocation stream behind a dead NAT) are found. Clients may ping every
 *       20 s at most: the device agent pings every 5 min, the example service every 30 s, verifier channels
 *       built as in the README not at all; none pings without a call, so pings without calls are not permitted.
 *   <li>A connection without calls for 5 min is closed (the agent closes its own after 2 min idle).
 *   <li>The TLS handshake must finish within 20 s (grpc-java's default is 120 s).
 *   <li>Calls run on a fixed pool of {@link #CALL_THREADS} threads with an unbounded queue, instead of grpc-java's
 *       default cached pool, which grows a thread per blocked call without limit. A bounded queue would be worse:
 *       gRPC runs every callback of a call on this executor, including a stream's on-ready and cancel callbacks,
 *       and a rejected callback leaves a call hanging. The queue cannot grow without the calls it belongs to: at
 *       most a few callbacks per open call, and open calls are bounded per connection. No handler blocks on a
 *       stream (the revocation feed writes from its own threads), so streams cannot starve the pool.
 * </ul>
 */
public final class GrpcServerLimits {
  public static final int MAX_MESSAGE_BYTES = 64 * 1024;
  public static final int MAX_METADATA_BYTES = 16 * 1024;
  public static final int MAX_CONCURRENT_CALLS_PER_CONNECTION = 100;
  public static final Duration KEEPALIVE_TIME = Duration.ofMinutes(2);
  public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
  public static final Duration PERMIT_KEEPALIVE_TIME = Duration.ofSeconds(20);
  public static final Duration MAX_CONNECTION_IDLE = Duration.ofMinutes(5);
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(20);
  /** Calls block on the HSM and the database; more threads than this only queue there. */
  public static final int CALL_THREADS = Math.max(32, 4 * Runtime.getRuntime().availableProcessors());

  private GrpcServerLimits() {}

  /** The limits every transport supports: message and metadata sizes. */
  public static <T extends ServerBuilder<T>> T applyTo(T builder) {
    return builder.maxInboundMessageSize(MAX_MESSAGE_BYTES).maxInboundMetadataSize(MAX_METADATA_BYTES);
  }

  /** All limits of the Netty listener, with {@code executor} (see {@link #newCallExecutor()}) running the calls. */
  public static NettyServerBuilder applyTo(NettyServerBuilder builder, ExecutorService executor) {
    return builder.maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .maxInboundMetadataSize(MAX_METADATA_BYTES)
        .maxConcurrentCallsPerConnection(MAX_CONCURRENT_CALLS_PER_CONNECTION)
        .keepAliveTime(KEEPALIVE_TIME.toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(KEEPALIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(PERMIT_KEEPALIVE_TIME.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(false)
        .maxConnectionIdle(MAX_CONNECTION_IDLE.toMillis(), TimeUnit.MILLISECONDS)
        .handshakeTimeout(HANDSHAKE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .executor(executor);
  }

  /** The fixed pool that runs gRPC calls (daemon threads named {@code grpc-call-N}); the caller shuts it down. */
  public static ExecutorService newCallExecutor() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(CALL_THREADS, r -> {
      Thread t = new Thread(r, "grpc-call-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }
}
