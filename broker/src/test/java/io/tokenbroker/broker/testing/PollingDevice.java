package io.tokenbroker.broker.testing;

import io.grpc.StatusRuntimeException;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A device polling the token endpoint with its device code in the background (RFC 8628 §3.4), as a device agent
 * does, with a fresh DPoP proof each time. Each poll first moves the test clock on by the interval (the device
 * "waits"), then sleeps a little real time; it stops at the first answer that is not authorization_pending.
 * Bounded: at most 600 polls.
 */
public final class PollingDevice implements AutoCloseable {
  private final InProcessBroker broker;
  private final MutableClock clock;
  private final String deviceCode;
  private final TestDevice device = new TestDevice();
  private final CountDownLatch done = new CountDownLatch(1);
  private final AtomicInteger pendingPolls = new AtomicInteger();
  private final Thread thread;
  private volatile Duration interval;
  private volatile TokenResponse tokens;
  private volatile StatusRuntimeException refusal;
  private volatile boolean stopped;

  public PollingDevice(InProcessBroker broker, MutableClock clock, String deviceCode, Duration interval) {
    this.broker = broker;
    this.clock = clock;
    this.deviceCode = deviceCode;
    this.interval = interval;
    this.thread = new Thread(this::run, "polling-device");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    try {
      for (int i = 0; i < 600 && !stopped; i++) {
        clock.advance(interval);
        try {
          tokens = broker.token(device.proof(InProcessBroker.tokenHtu(), clock.instant(), h -> h, c -> c)).token(
              TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
                  .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build());
          return;
        } catch (StatusRuntimeException e) {
          String reason = GrpcErrorAssert.errorInfo(e).getReason();
          if (reason.equals("AUTHORIZATION_PENDING")) {
            pendingPolls.incrementAndGet();
          } else if (reason.equals("SLOW_DOWN")) {
            interval = interval.plusSeconds(5);
          } else {
            refusal = e;
            return;
          }
        }
        Thread.sleep(200);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      done.countDown();
    }
  }

  /** Waits (at most {@code max}) until the device got its final answer; false when it is still polling. */
  public boolean awaitOutcome(Duration max) throws InterruptedException {
    return done.await(max.toMillis(), TimeUnit.MILLISECONDS);
  }

  public int pendingPolls() {
    return pendingPolls.get();
  }

  public TokenResponse tokens() {
    return tokens;
  }

  public StatusRuntimeException refusal() {
    return refusal;
  }

  public TestDevice device() {
    return device;
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    thread.join(5000);
  }
}
