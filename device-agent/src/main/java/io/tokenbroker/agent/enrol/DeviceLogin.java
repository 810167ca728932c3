package io.tokenbroker.agent.enrol;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.broker.BrokerClient;
import io.tokenbroker.agent.broker.BrokerException;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenResponse;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The RFC 8628 device flow from the device's side: start, show the user code and the verification URIs, poll
 * no faster than {@code interval} (adding 5 s on every {@code slow_down}, RFC 8628 §3.5), and end with the
 * first tokens or a distinct failure: denied, expired (or a new authorization when asked), unreachable.
 */
public final class DeviceLogin {
  /** Called with the first tokens and the monotonic time the successful poll was sent. */
  @FunctionalInterface
  public interface Enrolled {
    void accept(TokenResponse tokens, long sentAtNanos);
  }

  /** Waits between polls; tests and the CLI pass Thread::sleep semantics. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private static final Duration SLOW_DOWN_STEP = Duration.ofSeconds(5);
  private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  private final BrokerClient client;
  private final List<String> scopes;
  private final List<String> audiences;
  private final PrintStream out;
  private final Sleeper sleeper;
  private final LongSupplier nanoTime;

  private boolean qrCode;

  public DeviceLogin(BrokerClient client, List<String> scopes, List<String> audiences, PrintStream out,
      Sleeper sleeper, LongSupplier nanoTime) {
    this.client = client;
    this.scopes = scopes;
    this.audiences = audiences;
    this.out = out;
    this.sleeper = sleeper;
    this.nanoTime = nanoTime;
  }

  /** Runs the flow to the end; throws an {@link AgentException} whose exit code names the failure. */
  public void run(boolean restartOnExpiry, Enrolled enrolled) throws InterruptedException {
    while (true) {
      StartDeviceAuthorizationResponse start;
      try {
        start = client.startDeviceAuthorization(scopes, audiences);
      } catch (BrokerException e) {
        throw e;
      }
      show(start);
      try {
        poll(start, enrolled);
        return;
      } catch (BrokerException e) {
        if ("EXPIRED_TOKEN".equals(e.reason()) && restartOnExpiry) {
          out.println("The code expired before approval; starting a new authorization.");
          continue;
        }
        throw e;
      }
    }
  }

  /** Also draws the complete verification URI as a QR code (RFC 8628 §3.3.1) for a phone to scan. */
  public DeviceLogin showQrCode(boolean show) {
    this.qrCode = show;
    return this;
  }

  private void show(StartDeviceAuthorizationResponse start) {
    out.println("To enrol this device, open " + start.getVerificationUri());
    out.println("and enter the code: " + start.getUserCode());
    if (!start.getVerificationUriComplete().isEmpty()) {
      out.println("or open: " + start.getVerificationUriComplete());
      if (qrCode) {
        out.println("or scan it:");
        out.print(TerminalQrCode.render(start.getVerificationUriComplete(), TerminalQrCode.consoleSupportsUnicode()));
      }
    }
    out.println("The code expires in " + start.getExpiresIn().getSeconds() + " s.");
    out.flush();
  }

  private void poll(StartDeviceAuthorizationResponse start, Enrolled enrolled) throws InterruptedException {
    Duration interval = start.hasInterval() && start.getInterval().getSeconds() > 0
        ? Duration.ofSeconds(start.getInterval().getSeconds()) : DEFAULT_INTERVAL;
    long deadline = nanoTime.getAsLong() + Duration.ofSeconds(start.getExpiresIn().getSeconds()).toNanos();
    BrokerException lastTransient = null;
    while (true) {
      sleeper.sleep(interval);
      long sentAt = nanoTime.getAsLong();
      try {
        TokenResponse tokens = client.pollDeviceCode(start.getDeviceCode());
        enrolled.accept(tokens, sentAt);
        out.println("Device enrolled as " + tokens.getDeviceId() + ".");
        out.flush();
        return;
      } catch (BrokerException e) {
        String reason = e.reason() == null ? "" : e.reason();
        switch (reason) {
          case "AUTHORIZATION_PENDING" -> lastTransient = null;
          case "SLOW_DOWN" -> interval = interval.plus(SLOW_DOWN_STEP);
          case "ACCESS_DENIED", "EXPIRED_TOKEN" -> throw e;
          default -> {
            if (!e.retryable()) {
              throw e;
            }
            lastTransient = e;
          }
        }
      }
      if (nanoTime.getAsLong() - deadline > 0) {
        if (lastTransient != null) {
          throw new AgentException(ExitCodes.UNREACHABLE, "the broker could not be reached before the code "
              + "expired: " + lastTransient.getMessage());
        }
        throw new AgentException(ExitCodes.EXPIRED, "the code expired before it was approved");
      }
    }
  }
}
